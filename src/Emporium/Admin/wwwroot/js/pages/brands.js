import { api, describe } from '../api.js';
import { alertBox, field, formatDate, h } from '../dom.js';
import { flash, navigate } from '../app.js';
import { deleteButton, onSubmit, pager, pick, withParams } from './shared.js';

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
    h('div', { class: 'columns' },
      h('div', {},
        h('h2', {}, `All brands (${envelope.count})`),
        list,
        pager(envelope, '/brands')),
      side));
}

/** Name and slug inputs, filled from `brand` when editing. */
function brandFields(brand) {
  const name = h('input', { type: 'text', id: 'brand-name', autocomplete: 'off', value: brand?.name ?? '' });
  const slug = h('input', { type: 'text', id: 'brand-slug', autocomplete: 'off', spellcheck: false, value: brand?.slug ?? '' });
  const body = () => {
    const value = { name: name.value.trim() };
    if (slug.value.trim()) value.slug = slug.value.trim();
    return value;
  };
  return {
    body,
    fields: [
      field({ label: 'Name', name: 'name', control: name }),
      field({ label: 'Slug', name: 'slug', control: slug, hint: brand ? 'Leave empty to keep the current one.' : 'Leave empty to make one from the name.' }),
    ],
  };
}

function createForm(refresh) {
  const { body, fields } = brandFields(null);
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New brand' },
    fields, message, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create brand')));
  onSubmit(form, message, async () => {
    const { data } = await api('/api/brands', { method: 'POST', body: body() });
    flash(`Created brand “${data.name}”.`);
    await refresh();
  });
  return h('div', {}, h('h2', {}, 'New brand'), form);
}

/** PUT with the ETag the form was filled from: a change someone saved meanwhile is refused (412), not overwritten. */
function editForm({ data: brand, etag }, params) {
  const { body, fields } = brandFields(brand);
  const message = h('div', { class: 'form-message' });
  const back = withParams('/brands', params, { edit: null });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Edit brand' },
    fields, message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save brand'), h('a', { class: 'button secondary', href: back }, 'Cancel')));
  onSubmit(form, message, async () => {
    const { data } = await api(`/api/brands/${brand.id}`, { method: 'PUT', body: body(), headers: { 'If-Match': etag } });
    flash(`Saved brand “${data.name}”.`);
    navigate(back);
  });
  return h('div', {}, h('h2', {}, `Edit “${brand.name}”`), form);
}
