import { api, describe, session } from '../api.js';
import { alertBox, field, formatDate, h } from '../dom.js';
import { flash } from '../app.js';
import { filterForm, listColumns, onSubmit, pick } from './shared.js';

// What each role may do, in the order a picker offers them (decision 0013).
const ROLES = [
  ['staff', 'Staff — runs the store'],
  ['seller', 'Seller — manages its own products'],
  ['customer', 'Customer — buys'],
  ['admin', 'Admin — also manages users'],
];

// #/users: admins list accounts, create staff and seller accounts, change roles, set a lost password, and lock or unlock an
// account.
export async function usersPage({ params, refresh }) {
  const search = searchForm(params);
  let envelope;
  try {
    ({ data: envelope } = await api(`/api/users?${pick(params, ['email', 'role', 'page', 'page_size'])}`));
  } catch (error) {
    return h('section', {}, h('h1', {}, 'Users'), search, alertBox('The users could not be loaded.', describe(error)));
  }

  const message = h('div', { class: 'form-message' });
  const list = envelope.results.length === 0
    ? h('p', { class: 'empty' }, 'No users match.')
    : h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', {}, h('tr', {},
        ['Email', 'Role', 'Status', 'Created'].map((title) => h('th', { scope: 'col' }, title)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, envelope.results.map((user) => userRow(user, message, refresh))));

  return h('section', {},
    h('h1', {}, 'Users'),
    search,
    listColumns({ title: 'Accounts', envelope, route: '/users', side: h('div', {}, h('h2', {}, 'New user'), createForm(refresh)) },
      message, list));
}

function searchForm(params) {
  const email = h('input', { type: 'search', id: 'user-email', name: 'email', value: params.get('email') ?? '' });
  return filterForm({ label: 'Find users', path: '/users', button: 'Find' }, ['Email contains', email]);
}

function roleSelect(id, selected) {
  return h('select', { id },
    ROLES.map(([value, label]) => h('option', { value, selected: value === selected }, label)));
}

function userRow(user, message, refresh) {
  const self = session.get()?.email?.toLowerCase() === user.email.toLowerCase();
  // The strongest role is the one shown; changing it replaces every role the account has.
  const primary = ['admin', 'staff', 'seller', 'customer'].find((each) => user.roles.includes(each)) ?? 'customer';
  const role = roleSelect(`user-role-${user.id}`, primary);
  role.setAttribute('aria-label', `Role of ${user.email}`);

  async function act(done, request) {
    message.replaceChildren();
    try {
      await request();
      flash(done);
      await refresh();
    } catch (error) {
      message.replaceChildren(alertBox(`${user.email} was not changed.`, describe(error)));
    }
  }

  return h('tr', { dataset: { userId: user.id } },
    h('td', {}, user.email, self ? h('span', { class: 'muted' }, ' (you)') : null),
    h('td', {}, role, user.roles.length > 1 ? h('div', { class: 'muted' }, `Also: ${user.roles.filter((each) => each !== primary).join(', ')}`) : null),
    h('td', {}, h('span', { class: user.locked ? 'badge badge-inactive' : 'badge badge-active' }, user.locked ? 'Locked' : 'Active')),
    h('td', {}, formatDate(user.created_at)),
    h('td', { class: 'row-actions' },
      h('button', {
        type: 'button',
        class: 'secondary',
        'aria-label': `Change role of ${user.email}`,
        onclick: () => act(`${user.email} is now ${role.value}.`,
          () => api(`/api/users/${user.id}/roles`, { method: 'PUT', body: { roles: [role.value] } })),
      }, 'Change role'),
      user.locked
        ? h('button', {
          type: 'button',
          class: 'secondary',
          'aria-label': `Unlock ${user.email}`,
          onclick: () => act(`Unlocked ${user.email}.`, () => api(`/api/users/${user.id}/unlock`, { method: 'POST' })),
        }, 'Unlock')
        : h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Lock ${user.email}`,
          disabled: self,
          onclick: () => {
            if (window.confirm(`Lock ${user.email} out? They cannot sign in until unlocked; their sessions end at once.`)) {
              act(`Locked ${user.email}.`, () => api(`/api/users/${user.id}/lock`, { method: 'POST' }));
            }
          },
        }, 'Lock'),
      passwordControl(user, act)));
}

// A lost password, or an account taken back: the new password replaces the old one and every session of the account ends
// at its next refresh (PUT /api/users/{id}/password). Folded away, so a row stays one line.
function passwordControl(user, act) {
  const password = h('input', {
    type: 'password',
    id: `user-password-${user.id}`,
    autocomplete: 'new-password',
    'aria-label': `New password for ${user.email}`,
    placeholder: 'New password',
  });
  return h('details', { class: 'row-password' },
    h('summary', {}, 'Set password'),
    password,
    h('button', {
      type: 'button',
      class: 'secondary',
      'aria-label': `Set password of ${user.email}`,
      onclick: () => act(`Set a new password for ${user.email}; their sessions end at once.`,
        () => api(`/api/users/${user.id}/password`, { method: 'PUT', body: { password: password.value } })),
    }, 'Set'));
}

function createForm(refresh) {
  const email = h('input', { type: 'email', id: 'new-user-email', autocomplete: 'off' });
  const password = h('input', { type: 'password', id: 'new-user-password', autocomplete: 'new-password' });
  const role = roleSelect('new-user-role', 'staff');
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New user' },
    field({ label: 'Email', name: 'email', control: email }),
    field({ label: 'Password', name: 'password', control: password, hint: 'At least 10 characters; pass it on securely.' }),
    field({ label: 'Role', name: 'roles', control: role }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create user')));
  onSubmit(form, message, async () => {
    const { data } = await api('/api/users', { method: 'POST', body: { email: email.value.trim(), password: password.value, roles: [role.value] } });
    flash(`Created ${data.roles.join(', ')} account ${data.email}.`);
    await refresh();
  });
  return form;
}
