import { all, api, ApiError, describe } from '../api.js';
import { alertBox, clearFieldErrors, field, h, showFieldErrors } from '../dom.js';
import { flash, navigate } from '../app.js';
import { flattenTree, indent } from './shared.js';
import { imagesSection } from './images.js';
import { variantsSection } from './variants.js';

// Negative prices pass so the server's own message explains the rule.
const PRICE = /^-?\d+(\.\d+)?$/;

export async function productFormPage({ id, params, path }) {
  const isNew = id === null;
  let brands;
  let tree;
  let loaded = null;
  try {
    [brands, tree, loaded] = await Promise.all([
      all('/api/brands?page_size=100'),
      api('/api/categories/tree').then((response) => response.data),
      isNew ? Promise.resolve(null) : api(`/api/products/${id}`),
    ]);
  } catch (error) {
    const title = error instanceof ApiError && error.status === 404 ? 'Product not found' : 'The product could not be loaded';
    return h('section', {}, h('h1', {}, title), alertBox(describe(error)), h('p', {}, h('a', { href: '#/products' }, 'Back to products')));
  }

  // The ETag of the version the user is editing: PUT sends it as If-Match, so a change someone else
  // saved meanwhile is answered 412 instead of being silently overwritten.
  let etag = loaded?.etag ?? null;
  // The product as the form last loaded it: a 412 caused only by what this form does not edit (its images and variants,
  // which change the product's ETag too, on this very page or in a background job) is not a conflict with the user's edit.
  let base = loaded?.data ?? null;
  const categories = flattenTree(tree);

  const controls = {
    sku: h('input', { type: 'text', id: 'product-sku', autocomplete: 'off', spellcheck: false }),
    name: h('input', { type: 'text', id: 'product-name', autocomplete: 'off' }),
    slug: h('input', { type: 'text', id: 'product-slug', autocomplete: 'off', spellcheck: false }),
    description: h('textarea', { id: 'product-description', rows: 5 }),
    price: h('input', { type: 'text', id: 'product-price', inputmode: 'decimal', autocomplete: 'off' }),
    currency: h('input', { type: 'text', id: 'product-currency', maxlength: 3, size: 4, autocomplete: 'off', spellcheck: false }),
    is_active: h('input', { type: 'checkbox', id: 'product-active-flag' }),
    brand: h('select', { id: 'product-brand' },
      h('option', { value: '' }, '— No brand —'),
      brands.map((brand) => h('option', { value: String(brand.id) }, brand.name))),
    categories: h('select', { id: 'product-categories', multiple: true, size: Math.min(10, Math.max(4, categories.length)) },
      categories.map((category) => h('option', { value: String(category.id) }, `${indent(category.depth)}${category.name}`))),
  };

  function fill(product) {
    controls.sku.value = product?.sku ?? '';
    controls.name.value = product?.name ?? '';
    controls.slug.value = product?.slug ?? '';
    controls.description.value = product?.description ?? '';
    controls.price.value = product ? String(product.price) : '';
    controls.currency.value = product?.currency ?? 'USD';
    controls.is_active.checked = product?.is_active ?? true;
    controls.brand.value = product?.brand ? String(product.brand.id) : '';
    const selected = new Set((product?.categories ?? []).map((category) => String(category.id)));
    for (const option of controls.categories.options) option.selected = selected.has(option.value);
  }
  fill(loaded?.data);

  const message = h('div', { class: 'form-message' });
  const save = h('button', { type: 'submit' }, isNew ? 'Create product' : 'Save changes');
  const form = h('form', { class: 'card product-form', novalidate: true },
    h('div', { class: 'grid' },
      field({ label: 'SKU', name: 'sku', control: controls.sku }),
      field({ label: 'Name', name: 'name', control: controls.name }),
      field({ label: 'Slug', name: 'slug', control: controls.slug, hint: isNew ? 'Leave empty to make one from the name.' : 'Used in URLs; leave as it is unless you mean to change links.' }),
      field({ label: 'Price', name: 'price', control: controls.price, hint: 'For example 19.99' }),
      field({ label: 'Currency', name: 'currency', control: controls.currency, hint: 'ISO 4217 code, e.g. USD' }),
      field({ label: 'Brand', name: 'brand', control: controls.brand })),
    field({ label: 'Description', name: 'description', control: controls.description }),
    field({ label: 'Categories', name: 'categories', control: controls.categories, hint: 'Hold Ctrl (⌘ on a Mac) to pick several.' }),
    field({ label: 'Active (visible to customers)', name: 'is_active', control: controls.is_active }),
    message,
    h('div', { class: 'actions' }, save, h('a', { class: 'button secondary', href: '#/products' }, 'Cancel')));

  async function reload() {
    message.replaceChildren();
    clearFieldErrors(form);
    try {
      const latest = await api(`/api/products/${id}`);
      etag = latest.etag;
      base = latest.data;
      fill(latest.data);
      message.replaceChildren(h('p', { class: 'notice', role: 'status' }, 'Loaded the latest version. Make your changes again and save.'));
      controls.name.focus();
    } catch (error) {
      message.replaceChildren(alertBox('The product could not be reloaded.', describe(error)));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(form);

    // Leading zeros ("05") are a number to a person but not to JSON, where the price is written as typed.
    const price = controls.price.value.trim().replace(/^(-?)0+(?=\d)/, '$1');
    if (price !== '' && !PRICE.test(price)) {
      showFieldErrors(form, { price: ['price must be a number such as 19.99.'] });
      message.replaceChildren(alertBox('Please correct the highlighted field.'));
      return;
    }

    save.disabled = true;
    const send = () => api(isNew ? '/api/products' : `/api/products/${id}`, {
      method: isNew ? 'POST' : 'PUT',
      headers: !isNew && etag ? { 'If-Match': etag } : {},
      body: requestBody(controls, price),
    });
    try {
      let response;
      try {
        response = await send();
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 412 || isNew || !await onlyElsewhereChanged()) throw error;
        response = await send();
      }
      flash(isNew ? `Created “${response.data.name}”.` : `Saved “${response.data.name}”.`);
      navigate('#/products');
    } catch (error) {
      showFailure(error);
    } finally {
      save.disabled = false;
    }
  });

  // True (with the ETag taken) when the product changed since it was loaded only in what this form does not edit.
  async function onlyElsewhereChanged() {
    const latest = await api(`/api/products/${id}`);
    if (base === null || editable(latest.data) !== editable(base)) return false;
    etag = latest.etag;
    base = latest.data;
    return true;
  }

  function showFailure(error) {
    if (!(error instanceof ApiError)) {
      message.replaceChildren(alertBox(describe(error)));
      return;
    }
    if (error.status === 412) {
      message.replaceChildren(alertBox(
        'Someone else changed this product after you opened it.',
        'Your changes have not been saved, so theirs are not lost. Reload to see the latest version, then make your changes again.',
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: reload }, 'Reload latest version'))));
      message.querySelector('button').focus();
      return;
    }
    const unplaced = showFieldErrors(form, error.errors);
    const hasFieldErrors = Object.keys(error.errors).length > unplaced.length;
    message.replaceChildren(alertBox(
      hasFieldErrors ? 'Please correct the highlighted fields.' : error.title,
      error.detail,
      unplaced.map((text) => h('p', {}, text))));
  }

  return h('section', {},
    h('div', { class: 'page-heading' },
      h('h1', {}, isNew ? 'New product' : `Edit ${loaded.data.name}`),
      loaded?.data.deleted_at ? h('span', { class: 'badge badge-deleted' }, 'Deleted') : null),
    h('p', {}, h('a', { href: '#/products' }, '← All products')),
    form,
    isNew ? null : imagesSection(loaded.data),
    isNew ? null : await variantsSection({ product: loaded.data, params, route: path }));
}

/**
 * The JSON body. The price is written exactly as typed: a decimal such as 0.1 or 12345678901.2345 must
 * reach the server unchanged, which a JavaScript number cannot promise.
 */
function requestBody(controls, price) {
  const body = {
    sku: controls.sku.value.trim(),
    name: controls.name.value.trim(),
    description: controls.description.value.trim() || null,
    currency: controls.currency.value.trim().toUpperCase() || null,
    is_active: controls.is_active.checked,
    brand: controls.brand.value ? Number(controls.brand.value) : null,
    categories: [...controls.categories.selectedOptions].map((option) => Number(option.value)),
  };
  const slug = controls.slug.value.trim();
  if (slug) body.slug = slug;
  const json = JSON.stringify(body);
  return price === '' ? json : `${json.slice(0, -1)},"price":${price}}`;
}

/** The fields this form edits, as one comparable string. */
function editable(product) {
  return JSON.stringify([
    product.sku, product.name, product.slug, product.description ?? null, String(product.price), product.currency, product.is_active,
    product.brand?.id ?? null, (product.categories ?? []).map((category) => category.id).sort((a, b) => a - b),
  ]);
}
