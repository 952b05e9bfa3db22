import { api, describe } from '../api.js';
import { alertBox, formatDate, h } from '../dom.js';
import { flash, navigate } from '../app.js';
import { formatPrice } from './products.js';
import { filterForm, pager, pick } from './shared.js';

const STATUSES = ['pending', 'paid', 'fulfilled', 'cancelled'];

// What staff may do to an order in each state (decision 0016): the buttons shown are the transitions the API allows.
const ACTIONS = {
  pending: [['pay', 'Mark paid'], ['cancel', 'Cancel order']],
  paid: [['fulfill', 'Mark fulfilled'], ['cancel', 'Cancel order']],
  fulfilled: [],
  cancelled: [],
};

// #/orders: every order, newest first, filtered by status, customer and date.
export async function ordersPage({ params }) {
  const status = h('select', { id: 'order-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((each) => h('option', { value: each, selected: params.get('status') === each }, each)));
  const customer = h('input', { type: 'number', id: 'order-customer', name: 'user_id', min: 1, value: params.get('user_id') ?? '' });
  const from = h('input', { type: 'date', id: 'order-from', name: 'created_from', value: params.get('created_from') ?? '' });
  const to = h('input', { type: 'date', id: 'order-to', name: 'created_to', value: params.get('created_to') ?? '' });
  const filters = filterForm({ label: 'Find orders', path: '/orders' },
    ['Status', status], ['Customer id', customer], ['Placed from', from], ['Placed before', to]);

  let envelope;
  try {
    ({ data: envelope } = await api(`/api/orders?${pick(params, ['status', 'user_id', 'created_from', 'created_to', 'page', 'page_size'])}`));
  } catch (error) {
    return h('section', {}, h('h1', {}, 'Orders'), filters, alertBox('The orders could not be loaded.', describe(error)));
  }

  const list = envelope.results.length === 0
    ? h('p', { class: 'empty' }, 'No orders match.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Orders'),
      h('thead', {}, h('tr', {}, ['Order', 'Customer', 'Status', 'Items', 'Total', 'Placed'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, envelope.results.map((order) => h('tr', {},
        h('td', {}, h('a', { href: `#/orders/${order.id}` }, `#${order.id}`)),
        h('td', {}, order.email),
        h('td', {}, statusBadge(order.status)),
        h('td', { class: 'num' }, String(order.item_count)),
        h('td', { class: 'num' }, formatPrice(order.total, order.currency)),
        h('td', {}, formatDate(order.created_at))))));

  return h('section', {},
    h('h1', {}, 'Orders'),
    filters,
    h('h2', {}, `Orders (${envelope.count})`),
    list,
    pager(envelope, '/orders'));
}

// #/orders/{id}: the lines as bought, the stock they moved, and the state's actions.
export async function orderPage({ id }) {
  let order;
  let movements;
  try {
    [{ data: order }, { data: movements }] = await Promise.all([api(`/api/orders/${id}`), api(`/api/orders/${id}/movements`)]);
  } catch (error) {
    return h('section', {}, h('h1', {}, `Order #${id}`), alertBox('The order could not be loaded.', describe(error)),
      h('p', {}, h('a', { href: '#/orders' }, '← All orders')));
  }

  const message = h('div', { class: 'form-message' });
  const actions = ACTIONS[order.status].map(([action, label]) => h('button', {
    type: 'button',
    class: action === 'cancel' ? 'danger' : null,
    onclick: async (event) => {
      if (action === 'cancel' && !window.confirm(`Cancel order #${order.id}? Its units go back into stock.`)) return;
      // Held now: after the await, event.currentTarget is null.
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const { data } = await api(`/api/orders/${order.id}/${action}`, { method: 'POST' });
        flash(`Order #${data.id} is ${data.status}.`);
        navigate(`#/orders/${order.id}?status=${data.status}`);
      } catch (error) {
        message.replaceChildren(alertBox(`Order #${order.id} was not changed.`, describe(error)));
        button.disabled = false;
      }
    },
  }, label));

  return h('section', {},
    h('div', { class: 'page-heading' }, h('h1', {}, `Order #${order.id}`), statusBadge(order.status)),
    h('p', {}, h('a', { href: '#/orders' }, '← All orders')),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Customer'), h('dd', {}, order.email),
      h('dt', {}, 'Placed'), h('dd', {}, formatDate(order.created_at)),
      h('dt', {}, 'Total'), h('dd', { class: 'order-total' }, formatPrice(order.total, order.currency)),
      order.paid_at ? [h('dt', {}, 'Paid'), h('dd', {}, formatDate(order.paid_at))] : null,
      order.fulfilled_at ? [h('dt', {}, 'Fulfilled'), h('dd', {}, formatDate(order.fulfilled_at))] : null,
      order.cancelled_at ? [h('dt', {}, 'Cancelled'), h('dd', {}, formatDate(order.cancelled_at))] : null,
      h('dt', {}, 'Confirmation email'), h('dd', {}, order.confirmation_sent_at ? `sent ${formatDate(order.confirmation_sent_at)}` : 'not sent yet')),
    message,
    actions.length ? h('div', { class: 'actions' }, actions) : null,
    h('h2', {}, 'Lines'),
    h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Lines'),
      h('thead', {}, h('tr', {}, ['SKU', 'Item', 'Quantity', 'Unit price', 'Line total'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, order.lines.map((line) => h('tr', {},
        h('td', {}, line.sku),
        h('td', {}, line.name, Object.keys(line.attributes).length ? ` (${Object.entries(line.attributes).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''),
        h('td', { class: 'num' }, String(line.quantity)),
        h('td', { class: 'num' }, formatPrice(line.unit_price, order.currency)),
        h('td', { class: 'num' }, formatPrice(line.line_total, order.currency)))))),
    h('h2', {}, 'Stock movements'),
    h('table', { class: 'data movements' },
      h('caption', { class: 'visually-hidden' }, 'Stock movements'),
      h('thead', {}, h('tr', {}, ['When', 'Variant', 'Change', 'Level', 'Reason'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, movements.map((movement) => h('tr', {},
        h('td', {}, formatDate(movement.created_at)),
        h('td', {}, order.lines.find((line) => line.variant_id === movement.variant_id)?.sku ?? `#${movement.variant_id}`),
        h('td', { class: 'num' }, movement.delta > 0 ? `+${movement.delta}` : String(movement.delta)),
        h('td', { class: 'num' }, String(movement.on_hand)),
        h('td', {}, movement.reason))))));
}

function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}
