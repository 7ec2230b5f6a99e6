// `client.request()` on the host side: the app iframe posts `request:N` with its options, and the
// host answers `zaf.request:N.done` or `zaf.request:N.fail` exactly once (the SDK has no timeout of
// its own, so an unanswered request would hang the app for ever).
//
// Routing (docs/proxy.md, "Routing"):
// - a relative URL or one on this page's origin under /api/v2/ is fetched from this page with the
//   agent's session and CSRF token, as the agent could; any other path on this origin is refused
//   403 "… is not a proxyable URI" (apps must not reach zaffre's own admin endpoints or pages);
// - `cors: true` is a direct fetch from this page, without credentials unless
//   `xhrFields.withCredentials`, and without any interpolation: `{{setting.x}}` stays literal;
// - everything else goes to zaffre's proxy, POST /api/zaffre/installations/<id>/proxy, where the
//   installation id is the one of the iframe that sent the message (given by the bridge), never
//   a value from the options. Secure settings are substituted there, on the server.
//
// The pure functions (option checks, body encoding, reply shapes) are exported for the unit tests.
import { getCsrfToken } from '../api.js';

/** The longest a request may take, whatever the app's `timeout` option says. */
export const MAX_TIMEOUT_MS = 60_000;
/** Methods an app may use (the ones Zendesk's documentation lists). */
export const METHODS = /** @type {const} */ (['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** jQuery's default request Content-Type, which ZAF apps inherit for non-JSON data. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

/**
 * The options an app gave, checked and with defaults applied.
 * @typedef {{url: string, type: string, headers: Record<string, string>, data: unknown,
 *   contentType: string|false|undefined, dataType: string|undefined, timeout: number|undefined,
 *   cors: boolean, secure: boolean, httpCompleteResponse: boolean, withCredentials: boolean,
 *   autoRetry: boolean|undefined, jwt: unknown}} RequestOptions
 */

/**
 * What a failed request gives the app (jQuery's jqXHR fields that apps read).
 * @typedef {{status: number, statusText: string, responseText: string, responseJSON: any,
 *   headers?: Record<string, string>}} FailValue
 */

/** @typedef {{ok: true, value: unknown} | {ok: false, value: FailValue}} Reply */

/**
 * An HTTP answer, from fetch or from the proxy's JSON.
 * @typedef {{status: number, statusText: string, headers: Record<string, string>|Array<[string, string]>, body: string}} HttpAnswer
 */

/**
 * The bridge's view of the iframe that sent the request.
 * @typedef {{installationId: number, post: (msg: Record<string, unknown>) => void,
 *   onDestroy: Array<() => void>}} RequestSender
 */

const REASONS = /** @type {Record<number, string>} */ ({
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
});

/** A reason phrase for `status` (HTTP/2 answers have none). @param {number} status */
export function reasonPhrase(status) {
  return REASONS[status] ?? (status >= 400 ? 'error' : '');
}

/** @param {number} status @param {string} message @returns {FailValue} */
function failure(status, message) {
  return { status, statusText: reasonPhrase(status), responseText: message, responseJSON: null };
}

/** A failure that never reached an HTTP answer (jQuery's status 0). @param {'timeout'|'error'|'abort'} why @returns {FailValue} */
export function statusZero(why) {
  return { status: 0, statusText: why, responseText: '', responseJSON: null };
}

/** @param {string} message */
const invalid = (message) => ({ error: failure(400, `request(): ${message}`) });

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Checks the options an app posted (a URL string or an object) and applies defaults.
 * @param {unknown} raw
 * @returns {{options: RequestOptions} | {error: FailValue}}
 */
export function normalizeOptions(raw) {
  const o = /** @type {Record<string, any>} */ (typeof raw === 'string' ? { url: raw } : raw);
  if (!o || typeof o !== 'object' || Array.isArray(o)) return invalid('options must be a URL string or an object');
  if (typeof o.url !== 'string' || o.url.trim() === '') return invalid('"url" must be a non-empty string');
  const method = o.type ?? o.method ?? 'GET';
  if (typeof method !== 'string' || !(/** @type {readonly string[]} */ (METHODS)).includes(method.toUpperCase())) {
    return invalid(`"type" must be one of ${METHODS.join(', ')}`);
  }
  /** @type {Record<string, string>} */
  const headers = {};
  if (o.headers != null) {
    if (typeof o.headers !== 'object' || Array.isArray(o.headers)) return invalid('"headers" must be an object of strings');
    for (const [name, value] of Object.entries(o.headers)) {
      if (!TOKEN.test(name)) return invalid(`"${name.slice(0, 60)}" is not a valid header name`);
      if (typeof value !== 'string') return invalid(`header "${name}" must be a string`);
      if (/[\r\n\0]/.test(value)) return invalid(`header "${name}" must not contain line breaks`);
      headers[name] = value;
    }
  }
  if (o.timeout != null && (typeof o.timeout !== 'number' || !Number.isFinite(o.timeout) || o.timeout < 0)) {
    return invalid('"timeout" must be a number of milliseconds');
  }
  if (o.dataType != null && typeof o.dataType !== 'string') return invalid('"dataType" must be a string such as "json" or "text"');
  if (o.contentType != null && o.contentType !== false && typeof o.contentType !== 'string') {
    return invalid('"contentType" must be a string or false');
  }
  // A mistake in these two changes where the request goes: refuse rather than guess.
  for (const flag of ['cors', 'secure']) {
    if (o[flag] != null && typeof o[flag] !== 'boolean') return invalid(`"${flag}" must be true or false`);
  }
  if (o.xhrFields != null && (typeof o.xhrFields !== 'object' || Array.isArray(o.xhrFields))) {
    return invalid('"xhrFields" must be an object');
  }
  if (typeof o.data === 'function' || typeof o.data === 'symbol') return invalid('"data" must be a string or an object');
  return {
    options: {
      url: o.url,
      type: method.toUpperCase(),
      headers,
      data: o.data ?? undefined,
      contentType: o.contentType ?? undefined,
      dataType: o.dataType ?? undefined,
      timeout: o.timeout ?? undefined,
      cors: o.cors === true,
      secure: o.secure === true,
      httpCompleteResponse: Boolean(o.httpCompleteResponse),
      withCredentials: Boolean(o.xhrFields?.withCredentials),
      autoRetry: o.autoRetry == null ? undefined : Boolean(o.autoRetry),
      jwt: o.jwt ?? undefined,
    },
  };
}

/**
 * Where a request goes: `api` (this origin's /api/v2), `cors` (direct), `proxy` (zaffre's proxy),
 * or a refusal.
 * @param {string} url @param {boolean} cors @param {string} hostOrigin this page's origin
 * @returns {{route: 'api'|'cors'|'proxy', url: URL} | {route: 'refuse', error: FailValue}}
 */
export function routeFor(url, cors, hostOrigin) {
  /** @type {URL} */
  let u;
  try { u = new URL(url, `${hostOrigin}/`); } catch {
    return { route: 'refuse', error: failure(400, `request(): ${shortUrl(url)} is not a valid URL`) };
  }
  const notProxyable = { route: /** @type {const} */ ('refuse'), error: failure(403, `${shortUrl(url)} is not a proxyable URI`) };
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return notProxyable;
  // The parsed path decides, so /api/v2/../auth/… (or %2e%2e) cannot slip out of the API.
  if (u.origin === hostOrigin) return u.pathname.startsWith('/api/v2/') ? { route: 'api', url: u } : notProxyable;
  return { route: cors ? 'cors' : 'proxy', url: u };
}

/** @param {string} url */
function shortUrl(url) {
  return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}

/** The host's timer for a request: the app's `timeout` (0 or none = no limit of its own), capped. @param {number|undefined} timeout */
export function effectiveTimeout(timeout) {
  return timeout && timeout > 0 ? Math.min(timeout, MAX_TIMEOUT_MS) : MAX_TIMEOUT_MS;
}

/**
 * Form-encodes data the way jQuery.param does (`a[b]=1`, `list[]=x`), which ZAF apps expect.
 * @param {unknown} data
 */
export function param(data) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} key @param {unknown} value */
  const add = (key, value) => {
    if (value !== null && typeof value === 'object') {
      const isArray = Array.isArray(value);
      for (const [k, v] of Object.entries(value)) {
        add(isArray && (v === null || typeof v !== 'object') ? `${key}[]` : `${key}[${k}]`, v);
      }
      return;
    }
    out.push(`${encodeURIComponent(key)}=${encodeURIComponent(value == null ? '' : String(value))}`);
  };
  if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) add(k, v);
  return out.join('&').replace(/%20/g, '+');
}

/** @param {string} ct */
const isJsonType = (ct) => /(^|[/+])json\b/i.test(ct);

/**
 * The query to append and the body to send for a direct fetch (`api` and `cors` routes).
 * Object data is JSON for zaffre's API (which reads JSON) or with a JSON contentType, else
 * form-encoded like jQuery; string data is sent as it is.
 * @param {RequestOptions} o @param {'api'|'cors'} route
 * @returns {{query: string, body: string|undefined, contentType: string|undefined}}
 */
export function encodeRequest(o, route) {
  const data = o.data;
  if (data === undefined) return { query: '', body: undefined, contentType: undefined };
  if (o.type === 'GET') {
    return { query: typeof data === 'string' ? data : typeof data === 'object' ? param(data) : String(data), body: undefined,
      contentType: undefined };
  }
  const given = o.contentType;
  /** @type {string|false} */
  let ct;
  /** @type {string} */
  let body;
  if (typeof data === 'string') {
    body = data;
    ct = given !== undefined ? given : route === 'api' && looksLikeJson(data) ? 'application/json' : FORM_CONTENT_TYPE;
  } else if (data !== null && typeof data === 'object') {
    ct = given !== undefined ? given : route === 'api' ? 'application/json' : FORM_CONTENT_TYPE;
    body = typeof ct === 'string' && isJsonType(ct) ? JSON.stringify(data) : param(data);
  } else {
    body = String(data);
    ct = given !== undefined ? given : FORM_CONTENT_TYPE;
  }
  return { query: '', body, contentType: ct === false ? undefined : ct };
}

/** @param {string} s */
function looksLikeJson(s) {
  try { JSON.parse(s); return /^\s*[[{]/.test(s); } catch { return false; }
}

/**
 * Turns an HTTP answer into the app's reply: the parsed body on 2xx (JSON when `dataType: 'json'`
 * or a JSON Content-Type, else text), `{status, responseJSON, responseText, headers}` with
 * `httpCompleteResponse`, and a jqXHR-like failure otherwise.
 * @param {HttpAnswer} answer @param {{dataType?: string, httpCompleteResponse?: boolean}} o
 * @returns {Reply}
 */
export function shapeReply(answer, o) {
  const headers = lowerKeys(answer.headers);
  const ct = headers['content-type'] ?? '';
  const dataType = o.dataType?.toLowerCase();
  const wantsJson = dataType === 'json' || (dataType === undefined && isJsonType(ct));
  const body = answer.body ?? '';
  let json = null;
  let parsed = false;
  if (body !== '' && (wantsJson || (dataType !== 'text' && isJsonType(ct)))) {
    try { json = JSON.parse(body); parsed = true; } catch { /* text, or a parser error below */ }
  }
  const statusText = answer.statusText || reasonPhrase(answer.status);
  const success = (answer.status >= 200 && answer.status < 300) || answer.status === 304;
  if (success && !(wantsJson && body.trim() !== '' && !parsed)) {
    if (o.httpCompleteResponse) {
      return { ok: true, value: { status: answer.status, responseJSON: parsed ? json : null, responseText: body, headers } };
    }
    return { ok: true, value: wantsJson ? (parsed ? json : null) : body };
  }
  /** @type {FailValue} */
  const value = { status: answer.status, statusText: success ? 'parsererror' : statusText, responseText: body,
    responseJSON: parsed ? json : null };
  if (o.httpCompleteResponse) value.headers = headers;
  return { ok: false, value };
}

/** @param {Record<string, string>|Array<[string, string]>|null|undefined} h @returns {Record<string, string>} */
function lowerKeys(h) {
  /** @type {Record<string, string>} */
  const out = {};
  const entries = Array.isArray(h) ? h : Object.entries(h ?? {});
  for (const [k, v] of entries) {
    const name = String(k).toLowerCase();
    out[name] = name in out ? `${out[name]}, ${String(v)}` : String(v);
  }
  return out;
}

/**
 * The app's failure for an error answer of zaffre's proxy endpoint: a proxy refusal
 * (`{proxy_refusal: {status, code, message}}`, e.g. 403 "… is not a proxyable URI") keeps its
 * status and message; anything else (signed out, rate limited, …) passes through as it came.
 * @param {number} status @param {string} text the endpoint's body
 * @param {boolean} httpCompleteResponse
 * @param {Record<string, string>} [headers]
 * @returns {FailValue}
 */
export function proxyErrorReply(status, text, httpCompleteResponse, headers = {}) {
  /** @type {any} */
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  const r = body && typeof body === 'object' ? body.proxy_refusal : null;
  /** @type {FailValue} */
  const value = r && typeof r === 'object' && typeof r.message === 'string'
    ? { status: Number(r.status) || status, statusText: reasonPhrase(Number(r.status) || status), responseText: r.message,
      responseJSON: { error: String(r.code ?? 'ProxyRefused'), message: r.message } }
    : { status, statusText: reasonPhrase(status), responseText: text, responseJSON: body };
  if (httpCompleteResponse) value.headers = lowerKeys(headers);
  return value;
}

/**
 * The options the proxy reads (contract: docs/proxy.md); routing-only fields stay here.
 * @param {RequestOptions} o @param {URL} url
 */
export function proxyOptions(o, url) {
  /** @type {Record<string, unknown>} */
  const out = { url: url.href, type: o.type, headers: o.headers, timeout: effectiveTimeout(o.timeout) };
  if (o.data !== undefined) out.data = o.data;
  if (o.contentType !== undefined) out.contentType = o.contentType;
  if (o.dataType !== undefined) out.dataType = o.dataType;
  if (o.secure) out.secure = true;
  if (o.jwt !== undefined) out.jwt = o.jwt;
  if (o.autoRetry !== undefined) out.autoRetry = o.autoRetry;
  return out;
}

/** @param {Response} res @returns {Promise<HttpAnswer>} */
async function answerOf(res) {
  return { status: res.status, statusText: res.statusText, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/**
 * Performs one checked request on its route.
 * @param {RequestOptions} o @param {{route: 'api'|'cors'|'proxy', url: URL}} r
 * @param {number} installationId @param {AbortSignal} signal
 * @returns {Promise<Reply>}
 */
async function perform(o, r, installationId, signal) {
  if (r.route === 'proxy') {
    if (!Number.isSafeInteger(installationId) || installationId <= 0) return { ok: false, value: failure(403, 'No installation for this app') };
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    const token = getCsrfToken();
    if (token) headers['X-CSRF-Token'] = token;
    const res = await fetch(`/api/zaffre/installations/${installationId}/proxy`, {
      method: 'POST', headers, body: JSON.stringify({ options: proxyOptions(o, r.url) }), credentials: 'same-origin', signal,
    });
    const text = await res.text();
    if (!res.ok) return { ok: false, value: proxyErrorReply(res.status, text, o.httpCompleteResponse, Object.fromEntries(res.headers)) };
    /** @type {any} */
    let up = null;
    try { up = JSON.parse(text); } catch { /* checked below */ }
    if (!up || typeof up !== 'object' || typeof up.status !== 'number') return { ok: false, value: failure(502, 'The proxy gave an invalid answer') };
    return shapeReply({ status: up.status, statusText: String(up.statusText ?? ''), headers: up.headers ?? {},
      body: typeof up.body === 'string' ? up.body : '' }, o);
  }
  const { query, body, contentType } = encodeRequest(o, r.route);
  const url = new URL(r.url);
  if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
  const headers = new Headers();
  for (const [k, v] of Object.entries(o.headers)) headers.set(k, v);
  if (contentType && !headers.has('content-type')) headers.set('Content-Type', contentType);
  if (!headers.has('accept')) {
    headers.set('Accept', o.dataType === 'text' ? 'text/plain, */*; q=0.01' : r.route === 'api' ? 'application/json'
      : 'application/json, text/javascript, */*; q=0.01');
  }
  if (r.route === 'api') {
    // The agent's session, as the workspace itself sends it; the token is the host's, not the app's.
    headers.delete('x-csrf-token');
    const token = getCsrfToken();
    if (o.type !== 'GET' && token) headers.set('X-CSRF-Token', token);
  }
  const res = await fetch(url.href, {
    method: o.type, headers, body, signal,
    credentials: r.route === 'api' ? 'same-origin' : o.withCredentials ? 'include' : 'omit',
    mode: r.route === 'api' ? 'same-origin' : 'cors',
  });
  return shapeReply(await answerOf(res), o);
}

/**
 * Answers `request:N` from an app iframe with `zaf.request:N.done` or `.fail`, exactly once: on
 * the answer, on the host's timeout (status 0, "timeout"), or when the instance is destroyed
 * (status 0, "abort"; the fetch is aborted too).
 * @param {RequestSender} sender @param {string} n @param {unknown} raw the app's options
 * @param {string} [hostOrigin]
 */
export async function forwardRequest(sender, n, raw, hostOrigin = location.origin) {
  const controller = new AbortController();
  let settled = false;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  const onDestroy = () => reply({ ok: false, value: statusZero('abort') });
  /** @param {Reply} r */
  function reply(r) {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    const i = sender.onDestroy.indexOf(onDestroy);
    if (i >= 0) sender.onDestroy.splice(i, 1);
    controller.abort();
    try {
      sender.post({ key: `zaf.request:${n}.${r.ok ? 'done' : 'fail'}`, message: { responseArgs: [r.value] } });
    } catch { /* the frame is gone */ }
  }
  sender.onDestroy.push(onDestroy);
  try {
    const checked = normalizeOptions(raw);
    if ('error' in checked) { reply({ ok: false, value: checked.error }); return; }
    const o = checked.options;
    const r = routeFor(o.url, o.cors, hostOrigin);
    if (r.route === 'refuse') { reply({ ok: false, value: r.error }); return; }
    timer = setTimeout(() => reply({ ok: false, value: statusZero('timeout') }), effectiveTimeout(o.timeout));
    reply(await perform(o, r, sender.installationId, controller.signal));
  } catch {
    // A network or CORS failure (fetch gives no detail, and neither does jQuery), or an abort.
    reply({ ok: false, value: statusZero('error') });
  }
}
