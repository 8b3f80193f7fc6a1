// The list of rooms (bridge points) in the meeting, with their mute state, raised hands, the
// chair's mute and the floor.
import { t } from './i18n.js';
import { icons } from './icons.js';

export class Roster {
  constructor(listEl, titleEl) {
    this.listEl = listEl;
    this.titleEl = titleEl;
    // id → {id, name, audioMuted, videoMuted, chairMuted, handRaised, floor}
    this.people = new Map();
    this.selfId = null;
  }

  reset(list, selfId) {
    this.people.clear();
    this.selfId = selfId;
    for (const p of list ?? []) if (p?.id) this.people.set(p.id, { ...p });
    this.render();
  }

  clear() {
    this.reset([], null);
  }

  upsert(p) {
    if (!p?.id) return;
    this.people.set(p.id, { ...this.people.get(p.id), ...p });
    this.render();
  }

  // participant-left carries the id; accept an object too.
  remove(idOrParticipant) {
    const id = typeof idOrParticipant === 'string' ? idOrParticipant : idOrParticipant?.id;
    if (this.people.delete(id)) this.render();
  }

  list() {
    const all = [...this.people.values()];
    const self = all.filter((p) => p.id === this.selfId);
    const others = all
      .filter((p) => p.id !== this.selfId)
      .sort((a, b) => String(a.name).localeCompare(String(b.name), 'vi'));
    return [...self, ...others];
  }

  render() {
    const people = this.list();
    this.titleEl.textContent = t('roster.title', { n: people.length });
    this.listEl.replaceChildren(...people.map((p) => this.item(p)));
    if (!people.length) {
      const li = document.createElement('li');
      li.className = 'roster-empty';
      li.textContent = t('roster.empty');
      this.listEl.append(li);
    }
  }

  item(p) {
    const li = document.createElement('li');
    li.className = 'roster-item';
    li.dataset.participantId = p.id;
    if (p.id === this.selfId) li.classList.add('is-self');

    const main = document.createElement('span');
    main.className = 'roster-main';
    const name = document.createElement('span');
    name.className = 'roster-name';
    name.textContent = p.name;
    main.append(name);
    if (p.id === this.selfId) {
      const you = document.createElement('span');
      you.className = 'roster-you';
      you.textContent = t('roster.you');
      main.append(you);
    }
    li.append(main);
    const flags = document.createElement('span');
    flags.className = 'roster-flags';
    if (p.floor) flags.append(flag(icons.floor, t('roster.floor'), 'has-floor'));
    if (p.handRaised) flags.append(flag(icons.hand, t('roster.hand'), 'hand-raised'));
    if (p.chairMuted) flags.append(flag(icons.micOff, t('roster.chairMuted'), 'chair-muted'));
    if (p.audioMuted) flags.append(flag(icons.micOff, t('roster.micMuted'), 'mic-muted'));
    if (p.videoMuted) flags.append(flag(icons.camOff, t('roster.camMuted'), 'cam-muted'));
    li.append(flags);
    return li;
  }
}

function flag(svg, label, cls) {
  const span = document.createElement('span');
  span.className = `roster-flag ${cls}`;
  span.innerHTML = svg;
  span.title = label;
  span.setAttribute('role', 'img');
  span.setAttribute('aria-label', label);
  return span;
}
