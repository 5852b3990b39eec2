// Small DOM builders for the panels. Text always goes in through textContent, never as HTML:
// viewer names and chat are untrusted.

/** A button that calls `onClick`. */
export function button(label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

/** A list item: its text, then its controls (buttons). */
export function listItem(text, ...controls) {
  const item = document.createElement("li");
  const span = document.createElement("span");
  span.textContent = text;
  item.append(span, ...controls);
  return item;
}
