// A tiny DOM layer: every piece of text goes in through textContent or attributes, never as
// markup (names come from tokens and may contain HTML).

export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2).toLowerCase(), value);
      } else if (key === "class") {
        node.className = value;
      } else if (key === "value" || key === "checked" || key === "disabled") {
        node[key] = value;
      } else {
        node.setAttribute(key, value === true ? "" : String(value));
      }
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// A labelled form control: the label is tied to the input for screen readers.
let nextId = 0;
export function field(labelText, input, hint) {
  const id = input.id || `f${++nextId}`;
  input.id = id;
  const hintNode = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintNode) input.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: id }, labelText), input, hintNode);
}

// Render at most once per animation frame, however many events arrive (300-member sessions).
export function frameScheduler(render) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
}

// At most three toasts (the oldest goes), each gone after five seconds or when tapped.
const TOASTS_AT_MOST = 3;
export function toast(text) {
  const region = document.getElementById("toasts");
  while (region.children.length >= TOASTS_AT_MOST) region.firstElementChild.remove();
  const node = h("div", { class: "toast", onClick: () => node.remove() }, text);
  region.appendChild(node);
  setTimeout(() => node.remove(), 5000);
}

// A destructive one-click action asks first, in place: the button becomes "Yes, …" and
// "Cancel" (no window.confirm).
export function confirming(label, yesLabel, onYes, props = {}) {
  const slot = h("span", { class: "confirming" });
  const ask = () => replace(slot,
    h("button", { type: "button", class: "danger small", onClick: () => { reset(); onYes(); } }, yesLabel),
    h("button", { type: "button", class: "small", onClick: () => { reset(); slot.firstElementChild.focus(); } }, "Cancel"));
  const reset = () => replace(slot, h("button", { type: "button", class: "danger", ...props, onClick: () => { ask(); slot.firstElementChild.focus(); } }, label));
  reset();
  return slot;
}
