// Inline SVG icons (stroke style, 24x24), so pages need nothing from the network.
const svg = (body) =>
  `<svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor"` +
  ` stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;

const micBody =
  '<rect x="9" y="2" width="6" height="12" rx="3"/><path d="M5 10v1a7 7 0 0 0 14 0v-1"/>' +
  '<path d="M12 18v4M8 22h8"/>';
const camBody = '<rect x="2" y="6" width="14" height="12" rx="2"/><path d="M16 10l6-3v10l-6-3z"/>';
const slash = '<path d="M3 3l18 18"/>';

export const icons = {
  mic: svg(micBody),
  micOff: svg(micBody + slash),
  cam: svg(camBody),
  camOff: svg(camBody + slash),
  leave: svg(
    '<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 17l-5-5 5-5M5 12h11"/>',
  ),
  sound: svg(
    '<path d="M4 9v6h4l5 4V5L8 9z"/><path d="M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12"/>',
  ),
  room: svg('<rect x="3" y="4" width="18" height="13" rx="2"/><path d="M8 21h8M12 17v4"/>'),
  // chairing (issue 4): a raised hand, the floor, a shared screen, present at the roll call
  hand: svg(
    '<path d="M7 12V5.5a1.5 1.5 0 0 1 3 0V11M10 10V3.5a1.5 1.5 0 0 1 3 0V11"/>' +
    '<path d="M13 10.5V5a1.5 1.5 0 0 1 3 0v7"/><path d="M16 9.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-7 7' +
    'h-1a6 6 0 0 1-4.8-2.4L3.6 14.5a1.5 1.5 0 0 1 2.3-1.9L7 14"/>',
  ),
  floor: svg('<path d="M12 2.5l2.8 5.9 6.4.8-4.7 4.4 1.2 6.4L12 16.9 6.3 20l1.2-6.4-4.7-4.4 6.4-.8z"/>'),
  screen: svg(
    '<rect x="2" y="3" width="20" height="14" rx="2"/><path d="M8 21h8M12 17v4M9 10l3-3 3 3M12 7v6"/>',
  ),
  present: svg('<path d="M4 12.5l5 5L20 6.5"/>'),
};
