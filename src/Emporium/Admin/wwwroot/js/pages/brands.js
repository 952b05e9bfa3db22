import { api, ApiError, describe } from '../api.js';
import { alertBox, clearFieldErrors, field, formatDate, h, showFieldErrors } from '../dom.js';
import { flash } from '../app.js';
import { pager, pick } from './shared.js';

export async function brandsPage({ params, refresh }) {
  const form = createForm(refresh);
  let envelope;
  try {
    ({ data: envelope } = await api(`/api/brands?${pick(params, ['name', 'page', 'page_size'])}`));
  } catch (error) {
    return h('section', {}, h('h1', {}, 'Brands'), alertBox('The brands could not be loaded.', describe(error)), form);
  }

  const list = envelope.results.length === 0
    ? h('p', { class: 'empty' }, 'No brands yet.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Brands'),
      h('thead', {}, h('tr', {}, ['Name', 'Slug', 'Created'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, envelope.results.map((brand) => h('tr', {},
        h('td', {}, brand.name),
        h('td', { class: 'mono' }, brand.slug),
        h('td', {}, formatDate(brand.created_at))))));

  return h('section', {},
    h('h1', {}, 'Brands'),
    h('div', { class: 'columns' },
      h('div', {},
        h('h2', {}, `All brands (${envelope.count})`),
        list,
        pager(envelope, '/brands')),
      h('div', {}, h('h2', {}, 'New brand'), form)));
}

function createForm(refresh) {
  const name = h('input', { type: 'text', id: 'brand-name', autocomplete: 'off' });
  const slug = h('input', { type: 'text', id: 'brand-slug', autocomplete: 'off', spellcheck: false });
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New brand' },
    field({ label: 'Name', name: 'name', control: name }),
    field({ label: 'Slug', name: 'slug', control: slug, hint: 'Leave empty to make one from the name.' }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create brand')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(form);
    try {
      const body = { name: name.value.trim() };
      if (slug.value.trim()) body.slug = slug.value.trim();
      const { data } = await api('/api/brands', { method: 'POST', body });
      flash(`Created brand “${data.name}”.`);
      await refresh();
    } catch (error) {
      const unplaced = error instanceof ApiError ? showFieldErrors(form, error.errors) : [];
      message.replaceChildren(alertBox(describe(error), null, unplaced.map((text) => h('p', {}, text))));
    }
  });
  return form;
}
