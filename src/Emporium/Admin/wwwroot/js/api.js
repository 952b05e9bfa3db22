// The one place that talks to the API: tokens, the single refresh on 401, and problem details.

const SESSION_KEY = 'emporium.admin.session';

// sessionStorage: the tokens live as long as the tab and are not sent automatically with requests the way cookies
// are. A tab opened from this one (a link opened in a new tab, a duplicated tab) starts with a copy of them: see
// `renewals` below for how the tabs then share one login.
/** Roles that run the store (every product, brands, categories, webhooks); a seller manages only its own products. */
export const STORE_ROLES = ['admin', 'staff'];

/** True when the signed-in account is a seller that does not also run the store (decision 0013). */
export function isSellerOnly() {
  const roles = session.get()?.roles ?? [];
  return roles.includes('seller') && !roles.some((role) => STORE_ROLES.includes(role));
}

/** True when the signed-in account may manage users. */
export function isAdmin() {
  return (session.get()?.roles ?? []).includes('admin');
}

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

/** What a failed renewal tells the user when the session itself is still good. */
const unavailable = () => new ApiError(503, {
  title: 'The session could not be renewed just now.',
  detail: 'The server could not be reached or is busy; nothing was sent. Try again in a moment.',
});

/**
 * Tabs that hold copies of one login (a link opened in a new tab copies sessionStorage) must not each spend the same
 * refresh token: the API takes a reused one for a stolen one and revokes the login in every tab. So a tab renews under a
 * lock all its tabs share (Web Locks), tells the others the pair it got for the token it spent (BroadcastChannel; a tab
 * holding that token takes the new pair), and before spending its own token asks whether another tab already did. The
 * pairs a tab handed out are kept in memory only, for a few minutes.
 */
const renewals = (() => {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('emporium.admin.session') : null;
  // Every exchange of this login this tab has seen (spent here or told by another tab): refresh token -> the fields it
  // bought. A tab that slept through some renewals is answered with the end of the chain. About 100 small entries a day.
  const given = new Map();
  const waiting = new Map(); // refresh token asked about -> resolve(fields | null)
  const latest = (token) => {
    let fields = given.get(token);
    while (fields && given.has(fields.refresh_token)) fields = given.get(fields.refresh_token);
    return fields ?? null;
  };
  channel?.addEventListener('message', ({ data }) => {
    if (data?.type === 'renewed') {
      given.set(data.from, data.fields);
      if (session.get()?.refresh_token === data.from) session.update(data.fields);
      waiting.get(data.from)?.(data.fields);
    } else if (data?.type === 'renewed?' && latest(data.from)) {
      channel.postMessage({ type: 'renewed', from: data.from, fields: latest(data.from) });
    } else if (data?.type === 'signed-out' && session.get()?.refresh_token === data.from) {
      given.clear();
      endSession();
    }
  });
  return {
    /** Runs `renew` alone among the tabs of this origin (Web Locks: https or localhost only; see docs/operations.md). */
    exclusive: (renew) => (navigator.locks ? navigator.locks.request('emporium.admin.refresh', renew) : renew()),
    /** The fields another tab got for `token` (or for its successors), if one answers within a moment; null otherwise. */
    async askFor(token) {
      if (latest(token)) return latest(token);
      if (!channel) return null;
      const answer = new Promise((resolve) => {
        waiting.set(token, resolve);
        setTimeout(() => resolve(null), 150);
      });
      channel.postMessage({ type: 'renewed?', from: token });
      const fields = await answer;
      waiting.delete(token);
      return fields && (latest(token) ?? fields);
    },
    /** Tells the other tabs what `token` was exchanged for. */
    announce(token, fields) {
      given.set(token, fields);
      channel?.postMessage({ type: 'renewed', from: token, fields });
    },
    /** Tells the other tabs holding this login that it was signed out. */
    signedOut(token) {
      given.clear();
      channel?.postMessage({ type: 'signed-out', from: token });
    },
  };
})();

/**
 * Refresh tokens are single-use and a reused one revokes the whole login, so concurrent 401s must share
 * one refresh call rather than each spending the token (and tabs share one through `renewals`). Resolves to 'ok';
 * 'rejected' when the API refused the token (400, 401: the session is over); or 'unavailable' when it could not say
 * (no connection, 429 from the auth rate limit, a 5xx during a deploy): the token was not spent, so the session and
 * the page stay.
 */
function refreshTokens() {
  const started = session.get()?.refresh_token;
  refreshing ??= renewals.exclusive(async () => {
    const current = session.get();
    if (!current?.refresh_token) return 'rejected';
    // Another tab renewed meanwhile and this one took its pair: nothing to spend.
    if (current.refresh_token !== started) return 'ok';
    const fromAnotherTab = await renewals.askFor(current.refresh_token);
    if (fromAnotherTab) {
      session.update(fromAnotherTab);
      return 'ok';
    }
    try {
      const response = await send('/api/auth/refresh', { method: 'POST', body: { refresh_token: current.refresh_token } });
      if (response.ok) {
        const fields = tokenFields(await response.json());
        session.update(fields);
        renewals.announce(current.refresh_token, fields);
        return 'ok';
      }
      return response.status === 400 || response.status === 401 ? 'rejected' : 'unavailable';
    } catch {
      return 'unavailable';
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function send(path, { method = 'GET', body, headers = {}, token, signal } = {}) {
  const all = new Headers(headers);
  if (!all.has('Accept')) all.set('Accept', 'application/json, application/problem+json');
  // A FormData body sets its own multipart Content-Type, boundary included.
  const form = body instanceof FormData;
  if (body !== undefined && !form) all.set('Content-Type', 'application/json');
  if (token) all.set('Authorization', `Bearer ${token}`);
  return fetch(path, {
    method,
    headers: all,
    body: body === undefined ? undefined : form || typeof body === 'string' ? body : JSON.stringify(body),
    cache: 'no-store',
    signal,
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

/**
 * The session's fields from a token answer. Roles and email are read from the access token itself, so a refresh
 * after an admin changed the account's role shows the pages of the new role (the API already acts on it).
 */
function tokenFields(tokens) {
  const claims = claimsOf(tokens.access_token);
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    ...(claims ? { roles: [].concat(claims.role ?? []), email: claims.email } : {}),
  };
}

/** The JWT's payload (base64url JSON), or null for a token that is not one. */
function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

// The token is renewed shortly before it expires, so a page's calls do not each meet a 401 (the API answers an
// expired or invalid token with 401 on every route); the 401 path below covers the rest (clock skew, revoked tokens).
// Each tab picks its own margin, so tabs holding one login (see `renewals`) seldom renew at the same moment where the
// browser offers no Web Locks.
const RENEW_BEFORE_MS = 30_000 + Math.floor(Math.random() * 20_000);

async function currentToken() {
  const current = session.get();
  if (current?.access_token && current.expires_at && current.expires_at - Date.now() < RENEW_BEFORE_MS) {
    const renewed = await refreshTokens();
    if (renewed === 'rejected') {
      endSession();
      throw new ApiError(401, { title: 'Your session has expired.', detail: 'Please sign in again.' });
    }
    // Not renewed now, but the token may still have a few seconds; past them the call waits for the user to retry.
    if (renewed === 'unavailable' && current.expires_at <= Date.now()) throw unavailable();
  }
  return session.get()?.access_token ?? null;
}

/** Ends the session once: the calls of one page that all find it over must not each record where to return. */
function endSession() {
  if (!session.get()) return;
  session.clear();
  window.dispatchEvent(new CustomEvent('session-expired'));
}

/**
 * Sends a request as the signed-in user through `attempt(token)`, which resolves to a Response. On 401 it
 * refreshes the access token once and tries again; when that fails the session is over and a
 * `session-expired` event tells the app to show the sign-in page. Resolves to the last Response, whatever its status.
 */
async function authorized(attempt, anonymous = false) {
  const token = anonymous ? null : await currentToken();
  let response = await attempt(token);
  if (response.status === 401 && token) {
    const renewed = await refreshTokens();
    if (renewed === 'unavailable') throw unavailable();
    if (renewed === 'ok') {
      response = await attempt(session.get()?.access_token);
    }
    if (response.status === 401) endSession();
  }
  return response;
}

async function failure(response) {
  const data = await readBody(response);
  return new ApiError(response.status, data ?? { title: response.statusText || `HTTP ${response.status}` });
}

/**
 * Calls the API as the signed-in user (see `authorized`). Resolves to {status, data, etag}; rejects with
 * ApiError for any non-2xx answer.
 */
export async function api(path, options = {}) {
  const response = await authorized((token) => send(path, { ...options, token }), options.anonymous);
  if (!response.ok) throw await failure(response);
  const data = await readBody(response);
  return { status: response.status, data, etag: response.headers.get('ETag') };
}

/**
 * Posts a FormData body like `api`, reporting the bytes sent through onProgress(sent, total): fetch cannot tell how
 * far an upload has got, and a catalog of hundreds of megabytes takes a while to leave the browser.
 */
export async function upload(path, form, { onProgress, signal } = {}) {
  const response = await authorized((token) => new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    request.responseType = 'blob';
    request.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    request.addEventListener('load', () => {
      const empty = [101, 204, 205, 304].includes(request.status);
      resolve(new Response(empty ? null : request.response, {
        status: request.status,
        statusText: request.statusText,
        headers: { 'Content-Type': request.getResponseHeader('Content-Type') ?? '' },
      }));
    });
    request.addEventListener('error', () => reject(new TypeError('The upload could not reach the server.')));
    request.addEventListener('abort', () => reject(new DOMException('The upload was abandoned.', 'AbortError')));
    if (signal?.aborted) {
      reject(new DOMException('The upload was abandoned.', 'AbortError'));
      return;
    }
    signal?.addEventListener('abort', () => request.abort(), { once: true });
    request.send(form);
  }));
  if (!response.ok) throw await failure(response);
  return { status: response.status, data: await readBody(response) };
}

/**
 * Fetches a file the API only hands to a signed-in user (an <a href> cannot carry the bearer token).
 * Resolves to {blob, name}, the name taken from Content-Disposition when the API sends one.
 */
export async function download(path, fallbackName) {
  const response = await authorized((token) => send(path, { token, headers: { Accept: 'text/csv, application/problem+json' } }));
  if (!response.ok) throw await failure(response);
  return { blob: await response.blob(), name: fileNameOf(response.headers.get('Content-Disposition')) ?? fallbackName };
}

function fileNameOf(disposition) {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // Fall back to the plain parameter.
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(disposition);
  return plain ? (plain[2] ?? plain[1]).trim() : null;
}

/**
 * Reads a server-sent event stream as the signed-in user, yielding {type, data} per event. EventSource cannot
 * send the bearer token, so this is fetch with a streaming reader and a small parser of the text/event-stream
 * format. Ends when the server closes the stream; aborting `signal` stops it (the pending read rejects).
 */
export async function* events(path, { signal } = {}) {
  const response = await authorized((token) => send(path, { token, signal, headers: { Accept: 'text/event-stream, application/problem+json' } }));
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let type = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (data.length > 0) yield { type: type || 'message', data: data.join('\n') };
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') type = text;
        else if (name === 'data') data.push(text);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
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
  // The API revokes the whole login: the other tabs holding it sign out too, at once rather than at their next renewal.
  if (refreshToken) renewals.signedOut(refreshToken);
  if (refreshToken) {
    try {
      await send('/api/auth/logout', { method: 'POST', body: { refresh_token: refreshToken } });
    } catch {
      // Signing out locally is what matters to the user; the token expires on its own.
    }
  }
}
