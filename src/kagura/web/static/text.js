// Reply text as the pages show it: `[emotion]` tags removed, pieces joined the way the
// server joins them (kagura.conversation.text): one space between sentences of spaced
// languages, none around CJK, none where a piece already brings its own space.

const TAG = /\[\s*[^\[\]\n]{1,32}?\s*\]/g;
// CJK symbols and punctuation, kana, ideographs, full-width forms (not Korean: it spaces words).
const UNSPACED = /[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/;

/** Display text without `[emotion]` tags (the same rule as the server's). */
export function stripTags(text) {
  return String(text ?? "")
    .replace(TAG, " ")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}

/** `before` followed by `after`, with a space between them only where the language wants one. */
export function joinText(before, after) {
  if (!before) return after || "";
  if (!after) return before;
  const last = before[before.length - 1];
  const first = after[0];
  const spaced = !/\s/.test(last) && !/\s/.test(first) && !UNSPACED.test(last) && !UNSPACED.test(first);
  return before + (spaced ? " " : "") + after;
}
