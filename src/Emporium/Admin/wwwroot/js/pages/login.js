import { ApiError, describe, session, signIn, signOut } from '../api.js';
import { alertBox, field, h, showFieldErrors } from '../dom.js';
import { navigate } from '../app.js';

// Those who manage products: staff and admins (all of them) and sellers (their own, decision 0013).
const MANAGER_ROLES = ['admin', 'staff', 'seller'];

export async function loginPage() {
  if (session.get()?.access_token) {
    navigate('#/products');
  }

  const email = h('input', { type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'form-message' });
  const button = h('button', { type: 'submit' }, 'Sign in');

  const form = h('form', { class: 'card narrow', novalidate: true },
    field({ label: 'Email', name: 'email', control: email }),
    field({ label: 'Password', name: 'password', control: password }),
    message,
    h('div', { class: 'actions' }, button));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    showFieldErrors(form, {});
    button.disabled = true;
    try {
      const me = await signIn(email.value.trim(), password.value);
      if (!me.roles.some((role) => MANAGER_ROLES.includes(role))) {
        await signOut();
        message.replaceChildren(alertBox('This account cannot use the admin area.', 'Only staff, admins and sellers may sign in here.'));
        return;
      }
      const target = sessionStorage.getItem('emporium.admin.return');
      sessionStorage.removeItem('emporium.admin.return');
      navigate(target && !target.startsWith('#/login') ? target : '#/products');
    } catch (error) {
      session.clear();
      const unplaced = error instanceof ApiError ? showFieldErrors(form, error.errors) : [];
      message.replaceChildren(alertBox(describe(error), null, unplaced.map((text) => h('p', {}, text))));
    } finally {
      button.disabled = false;
    }
  });

  return h('section', { class: 'login' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'lede' }, 'Staff and admins manage the catalog here, sellers their own products.'),
    form);
}
