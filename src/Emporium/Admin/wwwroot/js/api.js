// The one place that talks to the API: tokens, the single refresh on 401, and problem details.

const SESSION_KEY = 'emporium.admin.session';

// sessionStorage: the tokens live as long as the tab, are not shared with other tabs and are not sent
// automatically with requests the way cookies are.
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY)) ?? null;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  update(changes) {
    this.set({ ...(this.get() ?? {}), ...changes });
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** A failed call: status plus the RFC 9457 problem the API answered (title, detail, errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Request failed (${status})`);
    this.status = status;
    this.problem = problem ?? {};
  }

  get title() {
    return this.problem.title || this.message;
  }

  get detail() {
    return this.problem.detail || '';
  }

  get errors() {
    return this.problem.errors ?? {};
  }
}

/** The user-facing sentence for any failure, including the server being unreachable. */
export function describe(error) {
  if (error instanceof ApiError) {
    return error.detail ? `${error.title} ${error.detail}`.trim() : error.title;
  }
  return 'The server could not be reached. Check your connection and try again.';
}

let refreshing = null;

/**
 * Refresh tokens are single-use and a reused one revokes the whole login, so concurrent 401s must share
 * one refresh call rather than each spending the token.
 */
function refreshTokens() {
  refreshing ??= (async () => {
    const current = session.get();
    if (!current?.refresh_token) return false;
    try {
      const response = await send('/api/auth/refresh', { method: 'POST', body: { refresh_token: current.refresh_token } });
      if (!response.ok) return false;
      session.update(tokenFields(await response.json()));
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function send(path, { method = 'GET', body, headers = {}, token } = {}) {
  const all = new Headers(headers);
  all.set('Accept', 'application/json, application/problem+json');
  if (body !== undefined) all.set('Content-Type', 'application/json');
  if (token) all.set('Authorization', `Bearer ${token}`);
  return fetch(path, {
    method,
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    cache: 'no-store',
  });
}

async function readBody(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (response.status === 204 || !type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function tokenFields(tokens) {
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
  };
}

// Public reads (products, brands) answer an expired token as if the caller were anonymous rather than
// with 401, which would quietly hide inactive products from staff; so the token is renewed shortly before
// it expires, and the 401 path below covers everything else (clock skew, revoked tokens).
const RENEW_BEFORE_MS = 30_000;

async function currentToken() {
  const current = session.get();
  if (current?.access_token && current.expires_at && current.expires_at - Date.now() < RENEW_BEFORE_MS) {
    if (!(await refreshTokens())) {
      endSession();
      throw new ApiError(401, { title: 'Your session has expired.', detail: 'Please sign in again.' });
    }
  }
  return session.get()?.access_token ?? null;
}

function endSession() {
  session.clear();
  window.dispatchEvent(new CustomEvent('session-expired'));
}

/**
 * Calls the API as the signed-in user. On 401 it refreshes the access token once and retries; when that
 * fails the session is over and a `session-expired` event tells the app to show the sign-in page.
 * Resolves to {status, data, etag}; rejects with ApiError for any non-2xx answer.
 */
export async function api(path, options = {}) {
  const { anonymous = false } = options;
  const token = anonymous ? null : await currentToken();
  let response = await send(path, { ...options, token });
  if (response.status === 401 && token) {
    if (await refreshTokens()) {
      response = await send(path, { ...options, token: session.get()?.access_token });
    }
    if (response.status === 401) endSession();
  }

  const data = await readBody(response);
  if (!response.ok) {
    throw new ApiError(response.status, data ?? { title: response.statusText || `HTTP ${response.status}` });
  }
  return { status: response.status, data, etag: response.headers.get('ETag') };
}

/** Every item of a paged list (for pickers: brands), following `next` up to a sane limit. */
export async function all(path, maxPages = 20) {
  const items = [];
  let url = path;
  for (let page = 0; url && page < maxPages; page += 1) {
    const { data } = await api(url);
    items.push(...data.results);
    url = data.next ? localPath(data.next) : null;
  }
  return items;
}

/** The envelope's next/previous links are absolute; the UI only follows them on its own origin. */
export function localPath(link) {
  const url = new URL(link, location.origin);
  return `${url.pathname}${url.search}`;
}

export async function signIn(email, password) {
  const { data } = await api('/api/auth/login', { method: 'POST', body: { email, password }, anonymous: true });
  session.set(tokenFields(data));
  const me = await api('/api/auth/me');
  session.update({ email: me.data.email, roles: me.data.roles });
  return me.data;
}

export async function signOut() {
  const refreshToken = session.get()?.refresh_token;
  session.clear();
  if (refreshToken) {
    try {
      await send('/api/auth/logout', { method: 'POST', body: { refresh_token: refreshToken } });
    } catch {
      // Signing out locally is what matters to the user; the token expires on its own.
    }
  }
}
