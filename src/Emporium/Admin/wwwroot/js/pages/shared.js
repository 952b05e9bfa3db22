import { describe, download, localPath } from '../api.js';
import { alertBox, h, saveFile } from '../dom.js';

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
