import { api, describe } from '../api.js';
import { alertBox, formatDate, h } from '../dom.js';
import { deleteButton, listColumns, nameAndSlug, pick, sideForm, withParams } from './shared.js';

// #/brands lists brands beside a form: "New brand", or "Edit brand" when the URL names one (#/brands?edit=12).
export async function brandsPage({ params, refresh }) {
  const editing = params.get('edit');
  let envelope;
  let side;
  try {
    ({ data: envelope } = await api(`/api/brands?${pick(params, ['name', 'page', 'page_size'])}`));
    side = editing ? editForm(await api(`/api/brands/${encodeURIComponent(editing)}`), params) : createForm(refresh);
  } catch (error) {
    return h('section', {}, h('h1', {}, 'Brands'), alertBox('The brands could not be loaded.', describe(error)), createForm(refresh));
  }

  const list = envelope.results.length === 0
    ? h('p', { class: 'empty' }, 'No brands yet.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Brands'),
      h('thead', {}, h('tr', {},
        ['Name', 'Slug', 'Created'].map((title) => h('th', { scope: 'col' }, title)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, envelope.results.map((brand) => h('tr', { dataset: { id: brand.id } },
        h('td', {}, brand.name),
        h('td', { class: 'mono' }, brand.slug),
        h('td', {}, formatDate(brand.created_at)),
        h('td', { class: 'row-actions' },
          h('a', { href: withParams('/brands', params, { edit: brand.id }), 'aria-label': `Edit ${brand.name}` }, 'Edit'),
          deleteButton({
            path: `/api/brands/${brand.id}`,
            name: brand.name,
            refresh,
            question: `Delete the brand “${brand.name}”? Its products keep it until they are edited; it can be restored through the API.`,
          }))))));

  return h('section', {},
    h('h1', {}, 'Brands'),
    listColumns({ title: 'All brands', envelope, route: '/brands', side }, list));
}

/** Name and slug inputs, filled from `brand` when editing. */
function brandFields(brand) {
  const { fields, values } = nameAndSlug('brand', brand);
  return { body: values, fields };
}

function createForm(refresh) {
  return sideForm({ kind: 'brand', endpoint: '/api/brands', refresh, ...brandFields(null) });
}

function editForm({ data: brand, etag }, params) {
  return sideForm({ kind: 'brand', endpoint: '/api/brands', page: '/brands', params, item: brand, etag, ...brandFields(brand) });
}
