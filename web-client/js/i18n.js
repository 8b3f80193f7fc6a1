// Strings of the web client in Vietnamese (default) and English. Every visible string goes
// through t(); elements carrying data-i18n* attributes are translated by applyI18n().

const STORAGE_KEY = 'mcu.lang';
export const LANGS = ['vi', 'en'];

const dict = {
  vi: {
    'app.title': 'Họp trực tuyến',
    'app.subtitle': 'Hệ thống hội nghị truyền hình',
    'lang.switch': 'English',
    'lang.switchTitle': 'Switch to English',

    'index.heading': 'Tham gia cuộc họp',
    'index.intro': 'Nhập mã cuộc họp và tên điểm cầu của phòng họp này.',
    'form.code': 'Mã cuộc họp',
    'form.codePlaceholder': 'ví dụ: demo',
    'form.name': 'Tên điểm cầu',
    'form.namePlaceholder': 'ví dụ: UBND xã Bản Lầu',
    'form.join': 'Vào phòng họp',
    'form.codeRequired': 'Vui lòng nhập mã cuộc họp.',
    'form.nameRequired': 'Vui lòng nhập tên điểm cầu.',
    'form.nameTooLong': 'Tên điểm cầu tối đa 64 ký tự.',
    'room.nameHeading': 'Tên điểm cầu của phòng họp này',
    'room.meeting': 'Cuộc họp: {code}',

    'state.connecting': 'Đang kết nối…',
    'state.connected': 'Đã kết nối',
    'state.reconnecting': 'Đang kết nối lại…',
    'state.failed': 'Mất kết nối',
    'state.left': 'Đã rời phòng',
    'state.reconnectIn': 'Thử lại sau {s} giây…',

    'ctl.micOn': 'Tắt micrô',
    'ctl.micOff': 'Bật micrô',
    'ctl.camOn': 'Tắt camera',
    'ctl.camOff': 'Bật camera',
    'ctl.noMic': 'Không có micrô',
    'ctl.noCam': 'Không có camera',
    'ctl.leave': 'Rời phòng',
    'ctl.enableSound': 'Bấm để bật âm thanh',
    'ctl.retry': 'Thử lại',
    'ctl.rejoin': 'Vào lại phòng họp',
    'ctl.home': 'Về trang chủ',

    'video.waiting': 'Đang chờ hình ảnh hội nghị…',
    'video.self': 'Hình ảnh phòng mình',
    'video.selfNone': 'Không gửi hình',

    'roster.title': 'Các điểm cầu ({n})',
    'roster.you': '(phòng này)',
    'roster.micMuted': 'Đã tắt micrô',
    'roster.camMuted': 'Đã tắt camera',
    'roster.empty': 'Chưa có điểm cầu nào',

    'left.heading': 'Bạn đã rời phòng họp',
    'left.body': 'Điểm cầu “{name}” đã rời cuộc họp {code}.',
    'failed.heading': 'Không thể vào phòng họp',

    'media.noCam': 'Không dùng được camera — phòng tham gia chỉ với âm thanh.',
    'media.noMic': 'Không dùng được micrô — phòng tham gia chỉ với hình ảnh.',
    'media.none': 'Không dùng được camera và micrô — phòng chỉ xem và nghe cuộc họp.',
    'media.unsupported': 'Trình duyệt không hỗ trợ camera/micrô trên trang này (cần HTTPS).',

    'err.bad_json': 'Máy chủ không hiểu yêu cầu (dữ liệu sai định dạng).',
    'err.unknown_type': 'Máy chủ không hỗ trợ yêu cầu này.',
    'err.missing_field': 'Yêu cầu thiếu thông tin.',
    'err.bad_field': 'Thông tin không hợp lệ (ví dụ tên điểm cầu trống hoặc quá dài).',
    'err.too_large': 'Yêu cầu quá lớn.',
    'err.unsupported_version': 'Trang họp đã cũ, vui lòng tải lại trang.',
    'err.unknown_meeting': 'Không có cuộc họp với mã này. Vui lòng kiểm tra lại mã.',
    'err.meeting_closed': 'Cuộc họp chưa mở hoặc đã kết thúc.',
    'err.meeting_full': 'Cuộc họp đã đủ số điểm cầu tối đa.',
    'err.already_joined': 'Điểm cầu này đã ở trong cuộc họp.',
    'err.not_joined': 'Điểm cầu chưa vào cuộc họp.',
    'err.no_session': 'Phiên kết nối hình ảnh chưa sẵn sàng.',
    'err.bad_sdp': 'Trình duyệt và máy chủ không thống nhất được kết nối hình ảnh.',
    'err.bad_candidate': 'Thông tin kết nối mạng không hợp lệ.',
    'err.answer_timeout': 'Kết nối hình ảnh quá lâu, đang thử lại.',
    'err.media_failed': 'Mất kết nối hình ảnh/âm thanh, đang thử lại.',
    'err.rate_limited': 'Quá nhiều yêu cầu, vui lòng đợi giây lát.',
    'err.internal': 'Máy chủ gặp lỗi.',
    'err.network': 'Không kết nối được tới máy chủ.',
    'err.timeout': 'Máy chủ không trả lời.',
    'err.unknown': 'Đã xảy ra lỗi ({code}).',
  },
  en: {
    'app.title': 'Online meeting',
    'app.subtitle': 'Video conferencing system',
    'lang.switch': 'Tiếng Việt',
    'lang.switchTitle': 'Chuyển sang tiếng Việt',

    'index.heading': 'Join a meeting',
    'index.intro': 'Enter the meeting code and the name of this meeting room.',
    'form.code': 'Meeting code',
    'form.codePlaceholder': 'e.g. demo',
    'form.name': 'Room name',
    'form.namePlaceholder': 'e.g. Ban Lau commune hall',
    'form.join': 'Join meeting',
    'form.codeRequired': 'Please enter the meeting code.',
    'form.nameRequired': 'Please enter the room name.',
    'form.nameTooLong': 'The room name may have at most 64 characters.',
    'room.nameHeading': 'Name of this meeting room',
    'room.meeting': 'Meeting: {code}',

    'state.connecting': 'Connecting…',
    'state.connected': 'Connected',
    'state.reconnecting': 'Reconnecting…',
    'state.failed': 'Connection lost',
    'state.left': 'Left the meeting',
    'state.reconnectIn': 'Retrying in {s} s…',

    'ctl.micOn': 'Mute mic',
    'ctl.micOff': 'Unmute mic',
    'ctl.camOn': 'Stop camera',
    'ctl.camOff': 'Start camera',
    'ctl.noMic': 'No microphone',
    'ctl.noCam': 'No camera',
    'ctl.leave': 'Leave',
    'ctl.enableSound': 'Click to enable sound',
    'ctl.retry': 'Try again',
    'ctl.rejoin': 'Rejoin the meeting',
    'ctl.home': 'Home page',

    'video.waiting': 'Waiting for the meeting picture…',
    'video.self': 'This room',
    'video.selfNone': 'Not sending video',

    'roster.title': 'Rooms ({n})',
    'roster.you': '(this room)',
    'roster.micMuted': 'Microphone muted',
    'roster.camMuted': 'Camera off',
    'roster.empty': 'No rooms yet',

    'left.heading': 'You left the meeting',
    'left.body': 'Room “{name}” left meeting {code}.',
    'failed.heading': 'Cannot join the meeting',

    'media.noCam': 'The camera is not available — joining with audio only.',
    'media.noMic': 'The microphone is not available — joining with video only.',
    'media.none': 'Neither camera nor microphone is available — watching and listening only.',
    'media.unsupported': 'This browser offers no camera/microphone on this page (HTTPS needed).',

    'err.bad_json': 'The server did not understand the request (malformed data).',
    'err.unknown_type': 'The server does not support this request.',
    'err.missing_field': 'The request is missing information.',
    'err.bad_field': 'Invalid information (e.g. the room name is empty or too long).',
    'err.too_large': 'The request is too large.',
    'err.unsupported_version': 'This page is out of date, please reload it.',
    'err.unknown_meeting': 'There is no meeting with this code. Please check the code.',
    'err.meeting_closed': 'The meeting has not started or has ended.',
    'err.meeting_full': 'The meeting already has the maximum number of rooms.',
    'err.already_joined': 'This room is already in the meeting.',
    'err.not_joined': 'This room has not joined the meeting.',
    'err.no_session': 'The media session is not ready.',
    'err.bad_sdp': 'The browser and the server could not agree on the media connection.',
    'err.bad_candidate': 'Invalid network connection information.',
    'err.answer_timeout': 'The media connection took too long; retrying.',
    'err.media_failed': 'The audio/video connection was lost; retrying.',
    'err.rate_limited': 'Too many requests, please wait a moment.',
    'err.internal': 'The server had a fault.',
    'err.network': 'Cannot reach the server.',
    'err.timeout': 'The server did not answer.',
    'err.unknown': 'An error occurred ({code}).',
  },
};

const listeners = new Set();

function storedLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(v) ? v : null;
  } catch {
    return null; // storage may be disabled
  }
}

let current = storedLang() || 'vi';

export function getLang() {
  return current;
}

export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* keep the choice for this page only */
  }
  document.documentElement.lang = lang;
  applyI18n();
  for (const fn of listeners) fn(lang);
}

export function toggleLang() {
  setLang(current === 'vi' ? 'en' : 'vi');
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// t('room.meeting', {code: 'demo'}) → "Cuộc họp: demo"
export function t(key, params = {}) {
  const s = dict[current][key] ?? dict.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// A friendly message for an error code of docs/protocol.md (or a client-side one).
export function errorText(code) {
  const key = `err.${code}`;
  return key in dict[current] ? t(key) : t('err.unknown', { code });
}

// Translates data-i18n (text), data-i18n-placeholder, data-i18n-title and data-i18n-aria-label.
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  const attrs = [
    ['i18nPlaceholder', 'placeholder'],
    ['i18nTitle', 'title'],
    ['i18nAriaLabel', 'aria-label'],
  ];
  for (const [data, attr] of attrs) {
    const sel = `[data-${data.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}]`;
    for (const el of root.querySelectorAll(sel)) el.setAttribute(attr, t(el.dataset[data]));
  }
}

// Wires a language switch button: its label names the other language.
export function bindLangSwitch(button) {
  const render = () => {
    button.textContent = t('lang.switch');
    button.title = t('lang.switchTitle');
    button.setAttribute('lang', current === 'vi' ? 'en' : 'vi');
  };
  button.addEventListener('click', toggleLang);
  onLangChange(render);
  render();
}
