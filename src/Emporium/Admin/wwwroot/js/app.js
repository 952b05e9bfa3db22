// The shell: a hash router (#/products, #/products/12, ...), the header, and flash messages.
import { describe, isAdmin, isSellerOnly, session, signOut } from './api.js';
import { alertBox, h } from './dom.js';
import { loginPage } from './pages/login.js';
import { productListPage } from './pages/products.js';
import { productFormPage } from './pages/product-form.js';
import { brandsPage } from './pages/brands.js';
import { categoriesPage } from './pages/categories.js';
import { webhooksPage } from './pages/webhooks.js';
import { importPage } from './pages/import.js';
import { jobsPage } from './pages/jobs.js';
import { jobPage } from './pages/job-view.js';
import { usersPage } from './pages/users.js';
import { workersPage } from './pages/workers.js';
import { orderPage, ordersPage } from './pages/orders.js';

const routes = [
  { pattern: /^\/login$/, page: loginPage, section: null, public: true },
  { pattern: /^\/products$/, page: productListPage, section: 'products' },
  { pattern: /^\/products\/new$/, page: productFormPage, section: 'products' },
  { pattern: /^\/products\/(\d+)$/, page: productFormPage, section: 'products' },
  { pattern: /^\/brands$/, page: brandsPage, section: 'brands' },
  { pattern: /^\/categories$/, page: categoriesPage, section: 'categories' },
  { pattern: /^\/webhooks$/, page: webhooksPage, section: 'webhooks' },
  { pattern: /^\/import$/, page: importPage, section: 'import' },
  { pattern: /^\/import\/(\d+)$/, page: jobPage, section: 'import' },
  { pattern: /^\/jobs$/, page: jobsPage, section: 'jobs' },
  { pattern: /^\/jobs\/(\d+)$/, page: jobPage, section: 'jobs' },
  { pattern: /^\/workers$/, page: workersPage, section: 'workers' },
  { pattern: /^\/users$/, page: usersPage, section: 'users' },
  { pattern: /^\/orders$/, page: ordersPage, section: 'orders' },
  { pattern: /^\/orders\/(\d+)$/, page: orderPage, section: 'orders' },
];

let pendingFlash = null;
let renderCount = 0;
// Aborted when the next render starts, so a page's live updates (event streams, refresh timers) stop with it.
let leaving = null;

/** A message shown on the next page (e.g. "Product created" after the form returns to the list). */
export function flash(message) {
  pendingFlash = message;
}

/** A message shown now, in the same region, for changes that update the page in place. */
export function announce(message) {
  document.getElementById('flash').textContent = message;
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/products';
  const [encodedPath, query = ''] = raw.split('?');
  const path = decodeURIComponent(encodedPath);
  const params = new URLSearchParams(query);
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params, id: match[1] ?? null, path };
  }
  return { route: null, params, id: null, path };
}

function showChrome(signedIn, section) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('account').hidden = !signedIn;
  document.getElementById('account-email').textContent = signedIn ? session.get()?.email ?? '' : '';
  const seller = signedIn && isSellerOnly();
  const admin = signedIn && isAdmin();
  for (const link of document.querySelectorAll('#nav a')) {
    // A seller manages its own products, imports and jobs; the store's taxonomy and webhooks are staff's; users are admins'.
    link.hidden = (seller && link.hasAttribute('data-staff-only')) || (!admin && link.hasAttribute('data-admin-only'));
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

export async function render() {
  const ticket = ++renderCount;
  leaving?.abort();
  leaving = new AbortController();
  const { signal } = leaving;
  const main = document.getElementById('main');
  const flashRegion = document.getElementById('flash');
  const { route, params, id, path } = currentRoute();
  const signedIn = Boolean(session.get()?.access_token);

  if (!route) {
    navigate('#/products');
    return;
  }
  if (!route.public && !signedIn) {
    sessionStorage.setItem('emporium.admin.return', location.hash);
    navigate('#/login');
    return;
  }

  flashRegion.textContent = pendingFlash ?? '';
  pendingFlash = null;
  showChrome(signedIn && route.public !== true, route.section);
  main.setAttribute('aria-busy', 'true');

  let view;
  try {
    view = await route.page({ params, id, path, refresh: render, signal });
  } catch (error) {
    view = h('section', {}, h('h1', { tabindex: '-1' }, 'Something went wrong'), alertBox(describe(error)));
  }

  // A slower, older render must not replace the page the user has moved on to.
  if (ticket !== renderCount) return;
  // The page's calls may have renewed the session meanwhile, and a renewal reads the roles again (an admin may have
  // changed them): the navigation follows.
  showChrome(Boolean(session.get()?.access_token) && route.public !== true, route.section);
  main.replaceChildren(view);
  main.removeAttribute('aria-busy');
  const heading = main.querySelector('h1');
  // Moving focus to the new heading tells keyboard and screen-reader users that the page changed.
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  document.title = heading ? `${heading.textContent} · Emporium admin` : 'Emporium admin';
}

document.getElementById('sign-out').addEventListener('click', async () => {
  await signOut();
  flash('You have signed out.');
  navigate('#/login');
});

window.addEventListener('session-expired', () => {
  flash('Your session has expired. Please sign in again.');
  sessionStorage.setItem('emporium.admin.return', location.hash);
  navigate('#/login');
});

// The skip link's "#main" would be taken for a route (and replace the page with the product list): it moves focus instead.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  const main = document.getElementById('main');
  main.setAttribute('tabindex', '-1');
  main.focus();
});

window.addEventListener('hashchange', render);
render();
