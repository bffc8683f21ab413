// Tiny DOM builder: every piece of data enters the page as a text node or an attribute value,
// never as markup, so a playlist called `<img onerror=...>` is just text.

/** Build an element: h('a', {href: '/x', class: 'link', onClick: fn}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children: strings and numbers become text nodes; arrays are flattened; null skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A short-lived message in the polite live region (screen readers hear it too). */
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  const item = h('div', {class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status'},
    message);
  region.append(item);
  setTimeout(() => item.classList.add('toast-leaving'), 3600);
  setTimeout(() => item.remove(), 4000);
}

/** Call `fn` only after `wait` ms without another call (search-as-you-type). */
export function debounce(fn, wait = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
