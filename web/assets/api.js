// HTTP access to zaffre: the Zendesk-shaped REST API under /api/v2 and the host's /auth endpoints.
// Keeps the anti-CSRF token in memory (never in storage), adds it to every write, and turns an
// expired session into one callback so the app can send the agent to the login page.

/** An error answer from the server, with its status and parsed JSON body. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   * @param {string} message
   */
  constructor(status, body, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** @type {string|null} */
let csrfToken = null;
/** @type {(() => void) | null} */
let onUnauthorized = null;

/** @param {string|null} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** The current anti-CSRF token, for callers that build their own fetch (the app host's `client.request()`). */
export function getCsrfToken() {
  return csrfToken;
}

/** Called when any authenticated request answers 401. @param {() => void} handler */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * Performs one request and returns the parsed JSON body (null for 204).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{signal?: AbortSignal, authRedirect?: boolean}} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal: options.signal,
  });
  if (res.status === 204) return null;
  const text = await res.text();
  /** @type {any} */
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: 'InvalidResponse', description: text.slice(0, 200) }; }
  }
  if (!res.ok) {
    if (res.status === 401 && options.authRedirect !== false && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, data, describeError(res.status, data));
  }
  return data;
}

/**
 * A sentence for an error body in any of the shapes zaffre and Zendesk use.
 * @param {number} status
 * @param {any} data
 */
export function describeError(status, data) {
  if (data && typeof data === 'object') {
    if (typeof data.description === 'string' && data.description) return data.description;
    if (typeof data.error === 'string') return data.error;
    if (data.error && typeof data.error === 'object' && data.error.message) return String(data.error.message);
  }
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status >= 500) return 'The server failed to answer. Try again.';
  return `Request failed (${status}).`;
}

/**
 * Sends a multipart form (file uploads) with the CSRF header; returns the parsed JSON body.
 * Errors are thrown as ApiError like every other request.
 * @param {string} path
 * @param {FormData} form
 * @returns {Promise<any>}
 */
export async function upload(path, form) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method: 'POST', headers, body: form, credentials: 'same-origin' });
  const text = await res.text();
  /** @type {any} */
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: 'InvalidResponse', description: text.slice(0, 200) }; }
  }
  if (!res.ok) {
    if (res.status === 401 && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, data, describeError(res.status, data));
  }
  return data;
}

/** @param {string} path @param {{signal?: AbortSignal}} [o] */
export const get = (path, o) => request('GET', path, undefined, o);
/** @param {string} path @param {unknown} body */
export const post = (path, body) => request('POST', path, body);
/** @param {string} path @param {unknown} body */
export const put = (path, body) => request('PUT', path, body);
/** @param {string} path */
export const del = (path) => request('DELETE', path);

/**
 * Builds a query string from an object, repeating array values (`role[]=agent&role[]=admin`).
 * @param {Record<string, string|number|undefined|null|Array<string|number>>} params
 */
export function qs(params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const item of v) sp.append(k, String(item));
    else sp.append(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}
