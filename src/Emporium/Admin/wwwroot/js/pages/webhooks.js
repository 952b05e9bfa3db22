import { api, describe } from '../api.js';
import { alertBox, field, formatDate, h, setChildren } from '../dom.js';
import { flash } from '../app.js';
import { listColumns, onSubmit, pick } from './shared.js';

// A secret is shown once by the API; it survives the page's re-render after a create or rotation, then is gone.
let pendingSecret = null;

export async function webhooksPage({ params, refresh }) {
  const form = createForm(refresh);
  const secret = pendingSecret;
  pendingSecret = null;
  const result = h('div', { class: 'test-result', role: 'status' });
  let envelope;
  try {
    ({ data: envelope } = await api(`/api/webhooks?${pick(params, ['page', 'page_size'])}`));
  } catch (error) {
    // The secret is shown once: a list that fails to load must not take it with it.
    return h('section', {}, h('h1', {}, 'Webhooks'), secret ? secretPanel(secret) : null,
      alertBox('The webhook subscriptions could not be loaded.', describe(error)), form);
  }

  const list = envelope.results.length === 0
    ? h('p', { class: 'empty' }, 'No webhook subscriptions yet.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Webhook subscriptions'),
      h('thead', {}, h('tr', {}, ['URL', 'Events', 'Status', 'Created', 'Actions'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, envelope.results.map((hook) => h('tr', { dataset: { id: hook.id } },
        h('td', { class: 'mono' }, hook.url, hook.description ? h('div', { class: 'muted' }, hook.description) : null),
        h('td', {}, hook.event_types.join(', ')),
        h('td', {},
          h('span', { class: hook.is_active ? 'badge badge-active' : 'badge badge-inactive' }, hook.is_active ? 'Active' : 'Inactive'),
          hook.disabled_reason ? h('div', { class: 'muted' }, hook.disabled_reason) : null,
          hook.previous_secret_expires_at ? h('div', { class: 'muted' }, `Old secret signs until ${formatDate(hook.previous_secret_expires_at)}`) : null),
        h('td', {}, formatDate(hook.created_at)),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Send test to ${hook.url}`, onClick: (event) => sendTest(hook, event.currentTarget, result) }, 'Send test'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Rotate secret of ${hook.url}`, onClick: () => rotate(hook, refresh) }, 'Rotate secret'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `${hook.is_active ? 'Disable' : 'Enable'} ${hook.url}`, onClick: () => setActive(hook, !hook.is_active, refresh) },
            hook.is_active ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${hook.url}`, onClick: () => remove(hook, refresh) }, 'Delete'))))));

  return h('section', {},
    h('h1', {}, 'Webhooks'),
    secret ? secretPanel(secret) : null,
    listColumns({ title: 'Subscriptions', envelope, route: '/webhooks', side: h('div', {}, h('h2', {}, 'New subscription'), form) },
      result, list));
}

function secretPanel({ url, secret }) {
  return h('div', { class: 'notice secret', role: 'status' },
    h('p', {}, `Signing secret for ${url}. Copy it now: it is not shown again.`),
    h('p', {}, h('code', { class: 'mono', id: 'webhook-secret' }, secret)));
}

async function sendTest(hook, button, result) {
  button.disabled = true;
  result.replaceChildren(h('p', {}, `Sending a test to ${hook.url}…`));
  try {
    const { data } = await api(`/api/webhooks/${hook.id}/test`, { method: 'POST' });
    const outcome = data.succeeded
      ? `Test delivered: HTTP ${data.status_code} in ${data.duration_ms} ms.`
      : `Test failed: ${data.error} (${data.duration_ms} ms).`;
    setChildren(result, h('p', {}, outcome), data.response_body ? h('pre', { class: 'mono' }, data.response_body) : null);
  } catch (error) {
    result.replaceChildren(alertBox(describe(error)));
  } finally {
    button.disabled = false;
  }
}

async function rotate(hook, refresh) {
  if (!window.confirm(`Rotate the signing secret of ${hook.url}? The current secret keeps signing during the overlap.`)) return;
  try {
    const { data } = await api(`/api/webhooks/${hook.id}/rotate_secret`, { method: 'POST' });
    pendingSecret = { url: hook.url, secret: data.secret };
    flash('Secret rotated.');
  } catch (error) {
    flash(`The secret could not be rotated: ${describe(error)}`);
  }
  await refresh();
}

/** Pausing keeps the subscription and its log; enabling again clears disabled_reason (and a 410's or auto-disable's stop). */
async function setActive(hook, active, refresh) {
  try {
    await api(`/api/webhooks/${hook.id}`, { method: 'PATCH', body: { is_active: active } });
    flash(active ? `Enabled ${hook.url}.` : `Disabled ${hook.url}: events are no longer sent to it.`);
  } catch (error) {
    flash(`The subscription could not be changed: ${describe(error)}`);
  }
  await refresh();
}

async function remove(hook, refresh) {
  if (!window.confirm(`Delete the subscription for ${hook.url}? Deliveries still waiting for it are dropped. Disable it instead to keep it.`)) return;
  try {
    await api(`/api/webhooks/${hook.id}`, { method: 'DELETE' });
    flash(`Deleted the subscription for ${hook.url}.`);
  } catch (error) {
    flash(`The subscription could not be deleted: ${describe(error)}`);
  }
  await refresh();
}

function createForm(refresh) {
  const url = h('input', { type: 'url', id: 'webhook-url', autocomplete: 'off', spellcheck: false });
  const events = h('input', { type: 'text', id: 'webhook-events', autocomplete: 'off', spellcheck: false, value: '*' });
  const description = h('input', { type: 'text', id: 'webhook-description', autocomplete: 'off' });
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New subscription' },
    field({ label: 'URL', name: 'url', control: url, hint: 'https://… — where events are POSTed.' }),
    field({ label: 'Events', name: 'event_types', control: events, hint: '* for all, or types separated by commas (product.created, import.completed, …).' }),
    field({ label: 'Description', name: 'description', control: description }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create subscription')));

  // onSubmit disables the button while the request runs: a double click made two subscriptions, each with its own secret.
  onSubmit(form, message, async () => {
    const body = {
      url: url.value.trim(),
      event_types: events.value.split(',').map((type) => type.trim()).filter(Boolean),
      description: description.value.trim() || null,
    };
    const { data } = await api('/api/webhooks', { method: 'POST', body });
    pendingSecret = { url: data.url, secret: data.secret };
    flash(`Created webhook subscription for ${data.url}.`);
    await refresh();
  });
  return form;
}
