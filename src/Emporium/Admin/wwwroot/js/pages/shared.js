import { api, ApiError, describe, download, localPath } from '../api.js';
import { alertBox, clearFieldErrors, field, h, saveFile, showFieldErrors } from '../dom.js';
import { flash, navigate } from '../app.js';

/**
 * Previous/next links built from the list envelope: the API decides what the neighbouring pages are,
 * the UI only carries their query string into its own URL so the page can be bookmarked.
 */
export function pager(envelope, route) {
  const link = (href, label, rel) => href
    ? h('a', { class: 'button secondary', href: `#${route}?${new URL(localPath(href), location.origin).searchParams}`, rel }, label)
    : h('span', { class: 'button secondary disabled', 'aria-disabled': 'true' }, label);
  const pages = Math.max(1, Math.ceil(envelope.count / envelope.page_size));
  return h('nav', { class: 'pager', 'aria-label': 'Pagination' },
    link(envelope.previous, 'Previous page', 'prev'),
    h('span', { class: 'pager-status' }, `Page ${envelope.page} of ${envelope.count_exact === false ? 'about ' : ''}${pages}`),
    link(envelope.next, 'Next page', 'next'));
}

/** A list page's two columns: `title` with the list's count, `content` and the pager, beside `side` (its form). */
export function listColumns({ title, envelope, route, side }, ...content) {
  return h('div', { class: 'columns' },
    h('div', {}, h('h2', {}, `${title} (${envelope.count})`), content, pager(envelope, route)),
    side);
}

/**
 * A search form of `fields`, each [label text, named control, ...anything shown after the control]. Submitting it
 * opens `path` with each control's trimmed value, when there is one, under its name: a new filter starts at page 1.
 */
export function filterForm({ label, path, button = 'Apply' }, ...fields) {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': label },
    fields.map(([text, control, ...after]) =>
      h('div', { class: 'field' }, h('label', { for: control.id }, text), control, after)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, button)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [, control] of fields) if (control.value.trim()) next.set(control.name, control.value.trim());
    location.hash = `#${path}?${next}`;
  });
  return form;
}

/** Copies the allowed keys of the page's URL into the API query. */
export function pick(params, keys) {
  const query = new URLSearchParams();
  for (const key of keys) {
    const value = params.get(key);
    if (value) query.set(key, value);
  }
  return query;
}

/** Flattens the category tree for pickers, indenting each name by its depth. */
export function flattenTree(nodes, depth = 0, out = []) {
  for (const node of nodes) {
    out.push({ id: node.id, name: node.name, slug: node.slug, depth });
    flattenTree(node.children ?? [], depth + 1, out);
  }
  return out;
}

export function indent(depth) {
  return '\u00a0\u00a0\u00a0'.repeat(depth);
}

/**
 * An "Export CSV" button: GET /api/products/export with `query` (the list's filters), fetched with the token and
 * saved from memory, since a plain link cannot carry the bearer token.
 */
export function exportButton(query, message) {
  const button = h('button', { type: 'button', class: 'secondary' }, 'Export CSV');
  button.addEventListener('click', async () => {
    message.replaceChildren();
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      const { blob, name } = await download(`/api/products/export?${query}`, 'products.csv');
      saveFile(blob, name);
    } catch (error) {
      message.replaceChildren(alertBox('The export failed.', describe(error)));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

/**
 * Runs `work` when the form is submitted. A refusal shows each field's message next to its field (`fieldOf` renames
 * API fields the form shows under another name) and the rest above the buttons; the submit button is disabled while
 * the request runs, so a double click cannot send it twice.
 */
export function onSubmit(form, message, work, fieldOf = {}) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(form);
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      await work();
    } catch (error) {
      const errors = {};
      for (const [key, messages] of Object.entries(error instanceof ApiError ? error.errors : {})) {
        const name = fieldOf[key] ?? key;
        errors[name] = [...(errors[name] ?? []), ...[].concat(messages)];
      }
      const unplaced = showFieldErrors(form, errors);
      message.replaceChildren(alertBox(describe(error), null, unplaced.map((text) => h('p', {}, text))));
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * A Delete button for a brand, category or other row: asks first, then DELETEs `path` and reloads the page with the
 * outcome as a flash message (the API's reason when it refuses, e.g. a category that still has subcategories).
 */
export function deleteButton({ path, name, refresh, question }) {
  return h('button', {
    type: 'button',
    class: 'danger',
    'aria-label': `Delete ${name}`,
    onclick: async () => {
      if (!window.confirm(question ?? `Delete “${name}”?`)) return;
      try {
        await api(path, { method: 'DELETE' });
        flash(`Deleted “${name}”.`);
      } catch (error) {
        flash(`“${name}” was not deleted: ${describe(error)}`);
      }
      await refresh();
    },
  }, 'Delete');
}

/** The same page's URL with `changes` applied to its query (null removes a key). */
export function withParams(route, params, changes) {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined) next.delete(key);
    else next.set(key, value);
  }
  const query = next.toString();
  return `#${route}${query ? `?${query}` : ''}`;
}

/**
 * The side form of a brand or category page. Without `item` it creates one (POST `endpoint`, then `refresh`); with it,
 * it edits that one with a PUT carrying the ETag the form was filled from, so a change someone saved meanwhile is
 * refused (412), not overwritten, and then goes back to `page` without ?edit.
 */
export function sideForm({ kind, endpoint, page, params, item, etag, body, fields, fieldOf, refresh }) {
  const message = h('div', { class: 'form-message' });
  const back = item ? withParams(page, params, { edit: null }) : null;
  const actions = item
    ? [h('button', { type: 'submit' }, `Save ${kind}`), h('a', { class: 'button secondary', href: back }, 'Cancel')]
    : [h('button', { type: 'submit' }, `Create ${kind}`)];
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': item ? `Edit ${kind}` : `New ${kind}` },
    fields, message, h('div', { class: 'actions' }, ...actions));
  onSubmit(form, message, async () => {
    if (item) {
      const { data } = await api(`${endpoint}/${item.id}`, { method: 'PUT', body: body(), headers: { 'If-Match': etag } });
      flash(`Saved ${kind} “${data.name}”.`);
      navigate(back);
    } else {
      const { data } = await api(endpoint, { method: 'POST', body: body() });
      flash(`Created ${kind} “${data.name}”.`);
      await refresh();
    }
  }, fieldOf);
  return h('div', {}, h('h2', {}, item ? `Edit “${item.name}”` : `New ${kind}`), form);
}

/**
 * The Name and Slug inputs a brand or category form starts with, filled from `item` when editing; `values()` gives
 * the name, and the slug only when one is typed (the API then keeps the current one, or makes one from the name).
 */
export function nameAndSlug(kind, item) {
  const name = h('input', { type: 'text', id: `${kind}-name`, autocomplete: 'off', value: item?.name ?? '' });
  const slug = h('input', { type: 'text', id: `${kind}-slug`, autocomplete: 'off', spellcheck: false, value: item?.slug ?? '' });
  return {
    fields: [
      field({ label: 'Name', name: 'name', control: name }),
      field({ label: 'Slug', name: 'slug', control: slug, hint: item ? 'Leave empty to keep the current one.' : 'Leave empty to make one from the name.' }),
    ],
    values: () => (slug.value.trim() ? { name: name.value.trim(), slug: slug.value.trim() } : { name: name.value.trim() }),
  };
}
