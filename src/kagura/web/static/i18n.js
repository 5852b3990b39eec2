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

/** Fill every `data-i18n` (text) and `data-i18n-placeholder` element under `root`. */
export function applyStrings(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
