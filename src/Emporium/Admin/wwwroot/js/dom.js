// Builds elements without innerHTML: every value from the API ends up as text, never as markup.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name in element && typeof value !== 'string') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** replaceChildren that, like h(), skips null, undefined and false instead of writing "null". */
export function setChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let nextId = 0;

/** A unique id for label/description wiring. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * A labelled field with a slot for its error message, wired with aria-describedby so screen readers
 * read the message together with the field.
 */
export function field({ label, name, control, hint }) {
  const id = control.id || uid(`field-${name}`);
  control.id = id;
  if (!control.name) control.name = name;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  const error = h('p', { class: 'field-error', id: errorId, dataset: { errorFor: name } });
  const isCheckbox = control.type === 'checkbox';
  return h('div', { class: isCheckbox ? 'field field-checkbox' : 'field', dataset: { field: name } },
    isCheckbox ? null : h('label', { for: id }, label),
    control,
    isCheckbox ? h('label', { for: id }, label) : null,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    error);
}

/** Shows the problem's field messages next to their fields; returns the messages that had no field. */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const unplaced = [];
  let first = null;
  for (const [key, messages] of Object.entries(errors ?? {})) {
    // "categories[2]" or "brand.id" belong to the categories or brand field.
    const name = key.split(/[[.]/)[0];
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const text = [].concat(messages).join(' ');
    if (!slot) {
      unplaced.push(text);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      first ??= control;
    }
  }
  first?.focus();
  return unplaced;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

/** An alert box for a failure the user must read; role=alert makes screen readers announce it. */
export function alertBox(title, detail, ...extra) {
  return h('div', { class: 'alert', role: 'alert' },
    h('p', { class: 'alert-title' }, title),
    detail && detail !== title ? h('p', {}, detail) : null,
    extra);
}

export function formatDate(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function formatNumber(value) {
  return value === null || value === undefined ? '' : numbers.format(value);
}

/** 95 → "1 min 35 s"; 7300 → "2 h 1 min". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${rest} s`;
  return `${rest} s`;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Hands a fetched file to the browser's download machinery under `name`. */
export function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy long before this; revoking at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
