// Building small pieces of a page in script: el("a", {href, class, text}, ...children).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

// make("span", "badge", "Draft"): an element with a class and text.
export function make(tag, className, text) {
  return el(tag, { class: className || null, text });
}
