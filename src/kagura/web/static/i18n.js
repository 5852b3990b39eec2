// UI strings in English and Chinese. The language comes from `?lang=en|zh`, else the browser.
// Strings reach the page only through textContent/placeholder, never as HTML.

const STRINGS = {
  en: {
    title: "Kagura stage",
    "state.connecting": "Connecting…",
    "state.open": "Connected",
    "state.reconnecting": "Reconnecting in {s} s",
    "state.closed": "Disconnected",
    "model.loading": "Loading the model…",
    "model.unavailable": "Live2D runtime not installed (run scripts/setup.sh); subtitles and audio still work.",
    "model.error": "The model could not be loaded: {reason}",
    "chat.title": "Chat",
    "chat.placeholder": "Say something…",
    "chat.send": "Send",
    "chat.interrupt": "Interrupt",
    "chat.you": "You",
    "chat.system": "System",
    "chat.interrupted": "(interrupted)",
    "history.title": "History",
    "history.new": "New conversation",
    "history.refresh": "Refresh",
    "history.empty": "(empty)",
    "preset.title": "Character",
    "settings.title": "Connection",
    "settings.url": "WebSocket URL (empty: this server)",
    "settings.save": "Save and reconnect",
    "admin.title": "Admin",
    "admin.stage_missing": "Stage not available on this server.",
    "admin.pause": "Pause answering",
    "admin.resume": "Resume answering",
    "admin.refreshed": "Updated {time}",
    "memory.title": "Memory",
    "memory.search": "Search viewers and notes…",
    "memory.totals": "{viewers} viewers, {notes} notes",
    "memory.notes": "Notes",
    "memory.edit": "Edit",
    "memory.save": "Save",
    "memory.delete": "Delete",
    "memory.confirm": "Delete this for good?",
    "memory.fact": "fact",
    "memory.summary": "summary",
    "audio.enable": "Click anywhere to enable sound",
    "mic.title": "Microphone",
    "mic.start": "Start microphone",
    "mic.stop": "Stop microphone",
    "mic.mode": "How your voice is sent",
    "mic.mode_voice": "Voice-activated",
    "mic.mode_push": "Push-to-talk",
    "mic.mute": "Mute",
    "mic.unmute": "Unmute",
    "mic.talk": "Hold to talk (or hold Space)",
    "mic.off": "The microphone is off.",
    "mic.starting": "Asking the browser for the microphone…",
    "mic.on_voice": "Listening: just talk; a pause ends your turn, and talking over the character interrupts it.",
    "mic.on_push": "Hold the Talk button (or Space, outside the text box) while you speak.",
    "mic.muted": "Muted: nothing is sent.",
    "mic.heard": "Heard: {text}",
    "mic.insecure": "The microphone needs a secure page. Browsers allow it only on https:// pages, or on http://127.0.0.1 and http://localhost on the server's own machine; this page is http://{host}. Open the stage on that machine; or tunnel to it (ssh -L {port}:127.0.0.1:{port} <server>, then open http://127.0.0.1:{port}/stage here); or serve Kagura over HTTPS behind a reverse proxy (Caddy, nginx). See docs/voice.md.",
    "mic.unsupported": "This browser cannot capture audio here (no AudioWorklet or mediaDevices).",
    "mic.denied": "The browser refused the microphone: allow it for this site (the icon in the address bar), then start it again.",
    "mic.nodevice": "No microphone was found.",
    "mic.ended": "The microphone was disconnected.",
    "mic.failed": "The microphone could not start: {reason}",
    "mic.forbidden": "Only the admin may talk on the stage: open this page with the admin token (?token=…).",
  },
  zh: {
    title: "神乐舞台",
    "state.connecting": "连接中…",
    "state.open": "已连接",
    "state.reconnecting": "{s} 秒后重新连接",
    "state.closed": "已断开",
    "model.loading": "正在加载模型…",
    "model.unavailable": "未安装 Live2D 运行库（请运行 scripts/setup.sh）；字幕和语音仍可使用。",
    "model.error": "模型加载失败：{reason}",
    "chat.title": "聊天",
    "chat.placeholder": "说点什么…",
    "chat.send": "发送",
    "chat.interrupt": "打断",
    "chat.you": "你",
    "chat.system": "系统",
    "chat.interrupted": "（已打断）",
    "history.title": "历史记录",
    "history.new": "新对话",
    "history.refresh": "刷新",
    "history.empty": "（空）",
    "preset.title": "角色",
    "settings.title": "连接",
    "settings.url": "WebSocket 地址（留空：本服务器）",
    "settings.save": "保存并重新连接",
    "admin.title": "管理",
    "admin.stage_missing": "此服务器没有舞台功能。",
    "admin.pause": "暂停回答",
    "admin.resume": "恢复回答",
    "admin.refreshed": "更新于 {time}",
    "memory.title": "记忆",
    "memory.search": "搜索观众与记忆…",
    "memory.totals": "{viewers} 位观众，{notes} 条记忆",
    "memory.notes": "记忆",
    "memory.edit": "编辑",
    "memory.save": "保存",
    "memory.delete": "删除",
    "memory.confirm": "永久删除？",
    "memory.fact": "事实",
    "memory.summary": "摘要",
    "audio.enable": "点击页面任意处以开启声音",
    "mic.title": "麦克风",
    "mic.start": "开启麦克风",
    "mic.stop": "关闭麦克风",
    "mic.mode": "语音发送方式",
    "mic.mode_voice": "声控",
    "mic.mode_push": "按住说话",
    "mic.mute": "静音",
    "mic.unmute": "取消静音",
    "mic.talk": "按住说话（或按住空格）",
    "mic.off": "麦克风已关闭。",
    "mic.starting": "正在向浏览器请求麦克风…",
    "mic.on_voice": "正在聆听：直接说话即可；停顿即结束本轮，在角色说话时开口会打断它。",
    "mic.on_push": "说话时按住“按住说话”按钮（或在输入框外按住空格）。",
    "mic.muted": "已静音：不发送任何声音。",
    "mic.heard": "听到：{text}",
    "mic.insecure": "麦克风需要安全页面。浏览器只在 https:// 页面，或服务器本机的 http://127.0.0.1 与 http://localhost 上允许使用麦克风；本页是 http://{host}。请在那台机器上打开舞台页；或用 SSH 隧道（ssh -L {port}:127.0.0.1:{port} <服务器>，然后在本机打开 http://127.0.0.1:{port}/stage）；或通过反向代理（Caddy、nginx）以 HTTPS 提供神乐。见 docs/voice.md。",
    "mic.unsupported": "此浏览器无法在这里采集声音（没有 AudioWorklet 或 mediaDevices）。",
    "mic.denied": "浏览器拒绝了麦克风：请在地址栏的网站设置中允许本站使用，然后重新开启。",
    "mic.nodevice": "没有找到麦克风。",
    "mic.ended": "麦克风已断开。",
    "mic.failed": "麦克风无法开启：{reason}",
    "mic.forbidden": "只有管理员可以在舞台上说话：请用管理员令牌（?token=…）打开本页。",
  },
};

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && asked in STRINGS) return asked;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export const lang = pickLanguage();

/** The string for `key` in the page's language, with `{name}` placeholders filled. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** Fill every `data-i18n` (text), `data-i18n-placeholder` and `data-i18n-title` element
 * under `root`. */
export function applyStrings(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
