import { api, ApiError, describe } from '../api.js';
import { alertBox, field, formatDate, h } from '../dom.js';
import { flash, navigate } from '../app.js';
import { formatPrice } from './products.js';
import { onSubmit, withParams } from './shared.js';

// Negative prices and amounts pass so the server's own message explains the rule.
const PRICE = /^-?\d+(\.\d+)?$/;

/**
 * The Variants card of a product's page: its live variants with attribute values, price and stock; a form to add one;
 * and, for the variant picked with "Stock" (?stock={id} in the page's URL, so a reload keeps it open), its level, an
 * adjustment form and the history of every change.
 */
export async function variantsSection({ product, params, route }) {
  const variants = product.variants ?? [];
  const picked = variants.find((variant) => String(variant.id) === params.get('stock')) ?? null;
  const rows = variants.map((variant) => h('tr', { dataset: { variant: variant.sku } },
    h('td', {}, variant.sku, variant.is_default ? h('span', { class: 'badge' }, 'Default') : null),
    h('td', {}, describeAttributes(variant.attributes)),
    h('td', { class: 'num' }, formatPrice(variant.price, variant.currency), variant.price_override === null ? '' : ' (own price)'),
    h('td', { class: 'num' }, String(variant.on_hand)),
    h('td', {}, variant.available ? 'Yes' : 'No'),
    h('td', { class: 'row-actions' },
      h('a', { class: 'button secondary', href: withParams(route, params, { stock: variant.id }), 'aria-label': `Stock of ${variant.sku}` }, 'Stock'),
      variant.is_default ? null : h('button', {
        type: 'button',
        class: 'danger',
        'aria-label': `Delete variant ${variant.sku}`,
        onclick: async () => {
          if (!window.confirm(`Delete the variant ${variant.sku}?`)) return;
          try {
            await api(`/api/variants/${variant.id}`, { method: 'DELETE' });
            flash(`Deleted the variant ${variant.sku}.`);
          } catch (error) {
            flash(`The variant ${variant.sku} was not deleted: ${describe(error)}`);
          }
          navigate(withParams(route, params, { stock: null }));
        },
      }, 'Delete'))));

  return h('section', { class: 'card', 'aria-labelledby': 'variants-heading' },
    h('h2', { id: 'variants-heading' }, `Variants (${variants.length})`),
    h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Variants'),
      h('thead', {}, h('tr', {},
        ['SKU', 'Attributes', 'Price', 'On hand', 'Available'].map((title) => h('th', { scope: 'col' }, title)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows)),
    picked ? await stockPanel(picked, params, route) : null,
    addForm(product, params, route));
}

function describeAttributes(attributes) {
  const pairs = Object.entries(attributes ?? {});
  return pairs.length === 0 ? '—' : pairs.map(([name, value]) => `${name}: ${value}`).join(', ');
}

/** "size=m, color=red" → {size: "m", color: "red"}; null when a pair has no "=". */
function parseAttributes(text) {
  const attributes = {};
  for (const pair of text.split(',').map((each) => each.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 1) return null;
    attributes[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return attributes;
}

function addForm(product, params, route) {
  const controls = {
    sku: h('input', { type: 'text', id: 'variant-sku', autocomplete: 'off', spellcheck: false }),
    attributes: h('input', { type: 'text', id: 'variant-attributes', autocomplete: 'off', spellcheck: false }),
    price: h('input', { type: 'text', id: 'variant-price', inputmode: 'decimal', autocomplete: 'off' }),
    stock: h('input', { type: 'number', id: 'variant-stock', min: 0, step: 1 }),
  };
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'variant-form', novalidate: true, 'aria-label': 'New variant' },
    h('h3', {}, 'Add a variant'),
    h('div', { class: 'grid' },
      field({ label: 'Variant SKU', name: 'sku', control: controls.sku }),
      field({ label: 'Attribute values', name: 'attributes', control: controls.attributes, hint: 'Attribute slug = value slug, comma separated: size=m, color=red' }),
      field({ label: 'Own price', name: 'price', control: controls.price, hint: 'Leave empty to sell at the product’s price.' }),
      field({ label: 'Starting stock', name: 'stock', control: controls.stock })),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add variant')));
  onSubmit(form, message, async () => {
    const attributes = parseAttributes(controls.attributes.value);
    const price = controls.price.value.trim();
    if (attributes === null) throw mistake('attributes', 'Write attribute values as size=m, color=red.');
    if (price !== '' && !PRICE.test(price)) throw mistake('price', 'price must be a number such as 19.99.');
    const body = { sku: controls.sku.value.trim(), attributes };
    if (controls.stock.value !== '') body.stock = Number(controls.stock.value);
    const json = JSON.stringify(body);
    const { data } = await api(`/api/products/${product.id}/variants`, { method: 'POST', body: price === '' ? json : `${json.slice(0, -1)},"price":${price}}` });
    flash(`Added the variant ${data.sku}.`);
    navigate(withParams(route, params, { stock: null, added: data.id }));
  });
  return form;
}

/** A mistake the form finds before asking the server, shown like the server's own field messages. */
function mistake(fieldName, text) {
  return new ApiError(400, { title: 'Please correct the highlighted field.', errors: { [fieldName]: [text] } });
}

async function stockPanel(variant, params, route) {
  let movements;
  try {
    ({ data: movements } = await api(`/api/variants/${variant.id}/stock/movements?page_size=50`));
  } catch (error) {
    return alertBox('The stock history could not be loaded.', describe(error));
  }
  const delta = h('input', { type: 'number', id: 'stock-delta', step: 1 });
  const reason = h('input', { type: 'text', id: 'stock-reason', autocomplete: 'off', maxlength: 200 });
  const message = h('div', { class: 'form-message' });
  const form = h('form', { novalidate: true, 'aria-label': `Adjust stock of ${variant.sku}` },
    h('div', { class: 'grid' },
      field({ label: 'Units to add or remove', name: 'delta', control: delta, hint: 'Negative to remove, e.g. -2' }),
      field({ label: 'Reason', name: 'reason', control: reason, hint: 'Kept in the history, e.g. “delivery 4711”.' })),
    message,
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Adjust stock'),
      h('a', { class: 'button secondary', href: withParams(route, params, { stock: null }) }, 'Close')));
  onSubmit(form, message, async () => {
    const { data } = await api(`/api/variants/${variant.id}/stock/adjustments`, {
      method: 'POST',
      body: JSON.stringify({ delta: delta.value === '' ? null : Number(delta.value), reason: reason.value.trim() }),
    });
    flash(`${variant.sku}: ${data.on_hand} on hand.`);
    navigate(withParams(route, params, { stock: variant.id, at: data.movement?.id ?? null }));
  });

  return h('div', { class: 'stock-panel' },
    h('h3', {}, `Stock of ${variant.sku}`),
    h('p', { class: 'stock-level' }, `${variant.on_hand} on hand`),
    form,
    movements.results.length === 0
      ? h('p', { class: 'empty' }, 'No stock changes yet.')
      : h('table', { class: 'data' },
        h('caption', {}, 'History'),
        h('thead', {}, h('tr', {}, ['When', 'Change', 'Level', 'Reason', 'Order'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', {}, movements.results.map((movement) => h('tr', {},
          h('td', {}, formatDate(movement.created_at)),
          h('td', { class: 'num' }, movement.delta > 0 ? `+${movement.delta}` : String(movement.delta)),
          h('td', { class: 'num' }, String(movement.on_hand)),
          h('td', {}, movement.reason),
          h('td', {}, movement.order_id ? h('a', { href: `#/orders/${movement.order_id}` }, `#${movement.order_id}`) : '—'))))));
}
