import { api, describe, isSellerOnly } from '../api.js';
import { alertBox, field, formatDate, h } from '../dom.js';
import { flash, navigate } from '../app.js';
import { exportButton, onSubmit, pager, pick } from './shared.js';

/** What a person types to confirm deleting every product: a deliberate act, not a stray click. */
const DELETE_ALL_PHRASE = 'DELETE ALL';

const SORTS = [
  ['-created_at', 'Newest first'],
  ['created_at', 'Oldest first'],
  ['name', 'Name A–Z'],
  ['-name', 'Name Z–A'],
  ['price', 'Price, low to high'],
  ['-price', 'Price, high to low'],
  ['-updated_at', 'Recently updated'],
];

const QUERY_KEYS = ['search', 'active', 'sort', 'include_deleted', 'page', 'page_size', 'cursor'];

export function formatPrice(price, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(price);
  } catch {
    return `${price} ${currency}`;
  }
}

export async function productListPage({ params, refresh }) {
  const query = pick(params, QUERY_KEYS);
  // A seller manages its own products: the list shows those (the public catalog is the storefront's).
  if (isSellerOnly()) query.set('owner', 'me');
  const filters = filterForm(params);
  const rowMessage = h('div', { class: 'form-message' });
  const deleteAll = deleteAllForm();
  const heading = h('div', { class: 'page-heading' },
    h('h1', {}, 'Products'),
    // The export takes the list's filters; sort and paging do not apply to it, and it holds live products only.
    exportButton(pick(params, ['search', 'active']), rowMessage),
    h('a', { class: 'button', href: '#/products/new' }, 'New product'),
    h('button', {
      type: 'button',
      class: 'danger',
      'aria-expanded': 'false',
      'aria-controls': 'delete-all',
      onclick: (event) => {
        deleteAll.hidden = !deleteAll.hidden;
        event.currentTarget.setAttribute('aria-expanded', String(!deleteAll.hidden));
        if (!deleteAll.hidden) deleteAll.querySelector('input').focus();
      },
    }, 'Delete all…'));

  let envelope;
  try {
    ({ data: envelope } = await api(`/api/products?${query}&include=thumbnail`));
  } catch (error) {
    return h('section', {}, heading, deleteAll, filters, rowMessage, alertBox('The products could not be loaded.', describe(error)));
  }

  const rows = envelope.results.map((product) => productRow(product, rowMessage, refresh));
  const table = rows.length === 0
    ? h('p', { class: 'empty' }, 'No products match.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Products'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Picture')),
        ['SKU', 'Name', 'Price', 'Brand', 'Status', 'Updated'].map((title) => h('th', { scope: 'col' }, title)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows));

  return h('section', {},
    heading,
    deleteAll,
    filters,
    h('p', { class: 'summary' }, `${envelope.count} ${envelope.count === 1 ? 'product' : 'products'}`),
    envelope.notice ? h('p', { class: 'hint' }, envelope.notice) : null,
    rowMessage,
    table,
    pager(envelope, '/products'));
}

function filterForm(params) {
  const search = h('input', { type: 'search', id: 'product-search', name: 'search', value: params.get('search') ?? '' });
  const active = h('select', { id: 'product-active', name: 'active' },
    [['', 'Any'], ['true', 'Active only'], ['false', 'Inactive only']]
      .map(([value, label]) => h('option', { value, selected: params.get('active') === value }, label)));
  const sort = h('select', { id: 'product-sort', name: 'sort' },
    SORTS.map(([value, label]) => h('option', { value, selected: (params.get('sort') ?? '-created_at') === value }, label)));
  const deleted = h('input', { type: 'checkbox', id: 'product-deleted', name: 'include_deleted', checked: params.get('include_deleted') === 'true' });

  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter products' },
    h('div', { class: 'field' }, h('label', { for: search.id }, 'Search'), search),
    h('div', { class: 'field' }, h('label', { for: active.id }, 'Status'), active),
    h('div', { class: 'field' }, h('label', { for: sort.id }, 'Sort by'), sort),
    h('div', { class: 'field field-checkbox' }, deleted, h('label', { for: deleted.id }, 'Include deleted')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (search.value.trim()) next.set('search', search.value.trim());
    if (active.value) next.set('active', active.value);
    if (sort.value !== '-created_at') next.set('sort', sort.value);
    if (deleted.checked) next.set('include_deleted', 'true');
    // A new filter starts again at page 1.
    location.hash = `#/products?${next}`;
  });
  return form;
}

function productRow(product, message, refresh) {
  const deleted = Boolean(product.deleted_at);
  const status = deleted ? 'Deleted' : product.is_active ? 'Active' : 'Inactive';

  async function act(label, request) {
    message.replaceChildren();
    try {
      await request();
      flash(`${label} “${product.name}”.`);
      await refresh();
    } catch (error) {
      message.replaceChildren(alertBox(`Could not change “${product.name}”.`, describe(error)));
    }
  }

  const action = deleted
    ? h('button', {
      type: 'button',
      class: 'secondary',
      'aria-label': `Restore ${product.name}`,
      onclick: () => act('Restored', () => api(`/api/products/${product.id}/restore`, { method: 'POST' })),
    }, 'Restore')
    : h('button', {
      type: 'button',
      class: 'danger',
      'aria-label': `Delete ${product.name}`,
      onclick: () => {
        // Soft delete: it can be undone from the list with "Include deleted".
        if (window.confirm(`Delete “${product.name}”? It can be restored later.`)) {
          act('Deleted', () => api(`/api/products/${product.id}`, { method: 'DELETE' }));
        }
      },
    }, 'Delete');

  return h('tr', { class: deleted ? 'deleted' : null, dataset: { productId: product.id } },
    h('td', { class: 'thumb' }, product.thumbnail ? h('img', { src: product.thumbnail.url, alt: '', width: 48, height: Math.round((48 * product.thumbnail.height) / product.thumbnail.width), loading: 'lazy' }) : null),
    h('td', { class: 'mono' }, product.sku),
    h('td', {}, h('a', { href: `#/products/${product.id}` }, product.name)),
    h('td', { class: 'number' }, formatPrice(product.price, product.currency)),
    h('td', {}, product.brand?.name ?? '—'),
    h('td', {}, h('span', { class: `badge badge-${status.toLowerCase()}` }, status)),
    h('td', {}, formatDate(product.updated_at)),
    h('td', { class: 'row-actions' },
      h('a', { href: `#/products/${product.id}`, 'aria-label': `Edit ${product.name}` }, 'Edit'),
      action));
}

/**
 * Deletes every product the user may delete (a seller: its own) as a background job, once the phrase is typed, and
 * opens the job's page to follow its progress. Soft delete: each product can still be restored.
 */
function deleteAllForm() {
  const phrase = h('input', { type: 'text', id: 'delete-all-phrase', autocomplete: 'off', spellcheck: false });
  const submit = h('button', { type: 'submit', class: 'danger', disabled: true }, 'Delete all products');
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card danger-zone', id: 'delete-all', novalidate: true, hidden: true, 'aria-label': 'Delete all products' },
    h('p', {}, isSellerOnly() ? 'This deletes every product you own.' : 'This deletes every product in the catalog.',
      ' Deleted products stay restorable one by one (list them with “Include deleted”).'),
    field({ label: `Type ${DELETE_ALL_PHRASE} to confirm`, name: 'phrase', control: phrase }),
    message,
    h('div', { class: 'actions' }, submit));
  phrase.addEventListener('input', () => {
    submit.disabled = phrase.value.trim() !== DELETE_ALL_PHRASE;
  });
  onSubmit(form, message, async () => {
    if (phrase.value.trim() !== DELETE_ALL_PHRASE) return;
    const { data } = await api('/api/products/bulk_delete', { method: 'POST', body: { all: true } });
    flash('Deleting the products in the background; this page follows its progress.');
    navigate(`#/jobs/${data.job_id}`);
  });
  return form;
}
