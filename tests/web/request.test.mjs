// Unit tests for the host's `client.request()` (web/assets/host/request.js), in plain node: option
// checks, routing, body encoding, reply shapes, and the "answered exactly once" rule with a fake
// sender and a stubbed fetch. The browser tests (tests/browser/sdk-request.test.mjs) run it for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeOptions, routeFor, effectiveTimeout, param, encodeRequest, shapeReply, proxyErrorReply, proxyOptions,
  forwardRequest, MAX_TIMEOUT_MS, FORM_CONTENT_TYPE,
} from '../../web/assets/host/request.js';

const HOST = 'http://127.0.0.1:4567';

/** @param {unknown} raw */
function ok(raw) {
  const r = normalizeOptions(raw);
  if ('error' in r) assert.fail(`expected valid options, got ${r.error.responseText}`);
  return r.options;
}

/** @param {unknown} raw @param {RegExp} message */
function refused(raw, message) {
  const r = normalizeOptions(raw);
  assert.ok('error' in r, `expected a refusal for ${JSON.stringify(raw)}`);
  assert.equal(r.error.status, 400);
  assert.equal(r.error.statusText, 'Bad Request');
  assert.match(r.error.responseText, message);
}

test('a string is {url}; defaults apply', () => {
  const o = ok('/api/v2/users/me.json');
  assert.equal(o.url, '/api/v2/users/me.json');
  assert.equal(o.type, 'GET');
  assert.deepEqual(o.headers, {});
  assert.equal(o.cors, false);
  assert.equal(o.secure, false);
  assert.equal(o.httpCompleteResponse, false);
  assert.equal(o.withCredentials, false);
  assert.equal(ok({ url: '/x', method: 'put' }).type, 'PUT');
  assert.equal(ok({ url: '/x', type: 'delete', method: 'POST' }).type, 'DELETE', '`type` wins over `method`');
  assert.equal(ok({ url: 'https://a.test/', xhrFields: { withCredentials: true } }).withCredentials, true);
  assert.equal(ok({ url: '/x', timeout: null, headers: null, dataType: null }).timeout, undefined);
});

test('bad options are refused with a clear 400', () => {
  refused(42, /options must be a URL string or an object/);
  refused(null, /options must be/);
  refused(['/api/v2/x.json'], /options must be/);
  refused({}, /"url" must be a non-empty string/);
  refused({ url: '  ' }, /"url" must be a non-empty string/);
  refused({ url: 7 }, /"url"/);
  refused({ url: '/x', type: 'TRACE' }, /"type" must be one of GET, POST, PUT, PATCH, DELETE/);
  refused({ url: '/x', type: 3 }, /"type"/);
  refused({ url: '/x', headers: 'Authorization: x' }, /"headers" must be an object of strings/);
  refused({ url: '/x', headers: ['a'] }, /"headers" must be an object/);
  refused({ url: '/x', headers: { 'X-Count': 3 } }, /header "X-Count" must be a string/);
  refused({ url: '/x', headers: { 'Bad Name': 'v' } }, /"Bad Name" is not a valid header name/);
  refused({ url: '/x', headers: { 'X-A': 'v\r\nX-Injected: 1' } }, /line breaks/);
  refused({ url: '/x', timeout: '5000' }, /"timeout" must be a number of milliseconds/);
  refused({ url: '/x', timeout: -1 }, /"timeout"/);
  refused({ url: '/x', timeout: Infinity }, /"timeout"/);
  refused({ url: '/x', dataType: 1 }, /"dataType"/);
  refused({ url: '/x', contentType: true }, /"contentType" must be a string or false/);
  refused({ url: '/x', cors: 'true' }, /"cors" must be true or false/);
  refused({ url: '/x', secure: 1 }, /"secure" must be true or false/);
  refused({ url: '/x', xhrFields: 'yes' }, /"xhrFields" must be an object/);
});

test('routing: own /api/v2, refused host paths, cors, proxy', () => {
  /** @param {string} url @param {boolean} [cors] */
  const route = (url, cors = false) => routeFor(url, cors, HOST).route;
  assert.equal(route('/api/v2/tickets/1.json'), 'api');
  assert.equal(route('api/v2/tickets/1.json'), 'api', 'relative to the origin, not the page path');
  assert.equal(route(`${HOST}/api/v2/users/me.json`), 'api');
  assert.equal(route('/api/v2/tickets.json', true), 'api', 'cors does not matter on the own API');
  for (const bad of ['/auth/logout', '/api/zaffre/installations/2/proxy', '/api/zaffre/proxy_audit.json', '/',
    '/api/v2/../zaffre/apps/installed.json', '/api/v2/%2e%2e/%2e%2e/auth/session', `${HOST}/admin`, '/api/v2']) {
    const r = routeFor(bad, false, HOST);
    assert.equal(r.route, 'refuse', bad);
    if (r.route === 'refuse') {
      assert.equal(r.error.status, 403);
      assert.equal(r.error.statusText, 'Forbidden');
      assert.equal(r.error.responseText, `${bad} is not a proxyable URI`);
    }
  }
  assert.equal(route('https://api.example.com/v1/things'), 'proxy');
  assert.equal(route('http://127.0.0.1:9999/x'), 'proxy', 'another port is another origin: the proxy decides');
  assert.equal(route('//api.example.com/v1'), 'proxy');
  assert.equal(route('https://api.example.com/v1', true), 'cors');
  for (const scheme of ['javascript:alert(1)', 'data:text/plain,hi', 'file:///etc/passwd', 'ftp://example.com/']) {
    const r = routeFor(scheme, true, HOST);
    assert.equal(r.route, 'refuse', scheme);
    if (r.route === 'refuse') assert.equal(r.error.status, 403);
  }
  const broken = routeFor('http://[::1', false, HOST);
  assert.equal(broken.route, 'refuse');
  if (broken.route === 'refuse') assert.equal(broken.error.status, 400);
});

test('timeouts: the app option, capped; none or 0 means the cap', () => {
  assert.equal(effectiveTimeout(undefined), MAX_TIMEOUT_MS);
  assert.equal(effectiveTimeout(0), MAX_TIMEOUT_MS);
  assert.equal(effectiveTimeout(1500), 1500);
  assert.equal(effectiveTimeout(10 * 60_000), MAX_TIMEOUT_MS);
  assert.equal(MAX_TIMEOUT_MS, 60_000);
});

test('param encodes like jQuery.param', () => {
  assert.equal(param({ a: 1, b: 'x y', c: null }), 'a=1&b=x+y&c=');
  assert.equal(param({ list: ['x', 'y'] }), 'list%5B%5D=x&list%5B%5D=y');
  assert.equal(param({ user: { name: 'Ann', tags: ['a'] } }), 'user%5Bname%5D=Ann&user%5Btags%5D%5B%5D=a');
  assert.equal(param({ rows: [{ id: 1 }] }), 'rows%5B0%5D%5Bid%5D=1');
  assert.equal(param({ s: 'a&b=c' }), 's=a%26b%3Dc');
});

test('request bodies: JSON for the own API, jQuery defaults for cors, strings as given', () => {
  const api = (/** @type {any} */ extra) => encodeRequest(ok({ url: '/api/v2/x.json', ...extra }), 'api');
  const cors = (/** @type {any} */ extra) => encodeRequest(ok({ url: 'https://a.test/', ...extra }), 'cors');
  assert.deepEqual(api({ type: 'GET', data: { page: 2, q: 'a b' } }), { query: 'page=2&q=a+b', body: undefined, contentType: undefined });
  assert.deepEqual(api({ type: 'PUT', data: { ticket: { subject: 'S' } } }),
    { query: '', body: '{"ticket":{"subject":"S"}}', contentType: 'application/json' });
  assert.deepEqual(api({ type: 'PUT', data: '{"ticket":{}}' }), { query: '', body: '{"ticket":{}}', contentType: 'application/json' });
  assert.deepEqual(api({ type: 'POST' }), { query: '', body: undefined, contentType: undefined });
  assert.deepEqual(cors({ type: 'POST', data: { a: 1 } }), { query: '', body: 'a=1', contentType: FORM_CONTENT_TYPE });
  assert.deepEqual(cors({ type: 'POST', data: { a: 1 }, contentType: 'application/json' }),
    { query: '', body: '{"a":1}', contentType: 'application/json' });
  assert.deepEqual(cors({ type: 'POST', data: 'raw text', contentType: 'text/plain' }), { query: '', body: 'raw text', contentType: 'text/plain' });
  assert.deepEqual(cors({ type: 'POST', data: 'x=1', contentType: false }), { query: '', body: 'x=1', contentType: undefined });
  assert.deepEqual(cors({ type: 'POST', data: '{"a":1}' }), { query: '', body: '{"a":1}', contentType: FORM_CONTENT_TYPE },
    'jQuery sends a string with its default type');
  assert.deepEqual(cors({ type: 'GET', data: 'x=1&y=2' }), { query: 'x=1&y=2', body: undefined, contentType: undefined });
});

test('reply shapes: parsed body, text, httpCompleteResponse, jqXHR-like failures', () => {
  const json = { 'Content-Type': 'application/json; charset=utf-8', 'X-Rate': '5' };
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: json, body: '{"a":1}' }, {}), { ok: true, value: { a: 1 } });
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: { 'content-type': 'application/vnd.api+json' }, body: '[1]' }, {}),
    { ok: true, value: [1] });
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: { 'content-type': 'text/plain' }, body: '{"a":1}' }, { dataType: 'json' }),
    { ok: true, value: { a: 1 } }, 'dataType json parses whatever the type');
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: json, body: '{"a":1}' }, { dataType: 'text' }),
    { ok: true, value: '{"a":1}' }, 'dataType text keeps the text');
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: { 'content-type': 'text/html' }, body: '<b>hi</b>' }, {}),
    { ok: true, value: '<b>hi</b>' });
  assert.deepEqual(shapeReply({ status: 204, statusText: '', headers: json, body: '' }, {}), { ok: true, value: null });
  assert.deepEqual(shapeReply({ status: 204, statusText: '', headers: {}, body: '' }, { httpCompleteResponse: true }),
    { ok: true, value: { status: 204, responseJSON: null, responseText: '', headers: {} } });
  assert.deepEqual(shapeReply({ status: 201, statusText: 'Created', headers: json, body: '{"id":9}' }, { httpCompleteResponse: true }),
    { ok: true, value: { status: 201, responseJSON: { id: 9 }, responseText: '{"id":9}',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-rate': '5' } } });

  assert.deepEqual(shapeReply({ status: 404, statusText: 'Not Found', headers: json, body: '{"error":"RecordNotFound"}' }, {}),
    { ok: false, value: { status: 404, statusText: 'Not Found', responseText: '{"error":"RecordNotFound"}', responseJSON: { error: 'RecordNotFound' } } });
  assert.deepEqual(shapeReply({ status: 500, statusText: '', headers: { 'content-type': 'text/plain' }, body: 'boom' }, {}),
    { ok: false, value: { status: 500, statusText: 'Internal Server Error', responseText: 'boom', responseJSON: null } },
    'HTTP/2 has no reason phrase: a standard one fills in');
  assert.deepEqual(shapeReply({ status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '3' }, body: '' }, { httpCompleteResponse: true }),
    { ok: false, value: { status: 429, statusText: 'Too Many Requests', responseText: '', responseJSON: null, headers: { 'retry-after': '3' } } });
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: {}, body: 'not json' }, { dataType: 'json' }),
    { ok: false, value: { status: 200, statusText: 'parsererror', responseText: 'not json', responseJSON: null } });
  assert.deepEqual(shapeReply({ status: 200, statusText: 'OK', headers: [['Set-Thing', 'a'], ['set-thing', 'b']], body: '' }, { httpCompleteResponse: true }),
    { ok: true, value: { status: 200, responseJSON: null, responseText: '', headers: { 'set-thing': 'a, b' } } });
});

test('proxy endpoint errors: a refusal keeps its status and message; other errors pass through', () => {
  const refusal = JSON.stringify({ error: 'Forbidden', description: 'x', proxy_refusal: { status: 403, code: 'forbidden_target',
    message: 'http://10.0.0.1/ is not a proxyable URI' } });
  assert.deepEqual(proxyErrorReply(403, refusal, false), { status: 403, statusText: 'Forbidden',
    responseText: 'http://10.0.0.1/ is not a proxyable URI', responseJSON: { error: 'forbidden_target', message: 'http://10.0.0.1/ is not a proxyable URI' } });
  const unknown = JSON.stringify({ proxy_refusal: { status: 422, code: 'unknown_setting', message: 'unknown setting "nope"' } });
  assert.equal(proxyErrorReply(422, unknown, true, { 'Content-Type': 'application/json' }).headers?.['content-type'], 'application/json');
  assert.deepEqual(proxyErrorReply(429, '{"error":"TooManyRequests"}', false),
    { status: 429, statusText: 'Too Many Requests', responseText: '{"error":"TooManyRequests"}', responseJSON: { error: 'TooManyRequests' } });
  assert.deepEqual(proxyErrorReply(502, 'Bad gateway', false), { status: 502, statusText: 'Bad Gateway', responseText: 'Bad gateway', responseJSON: null });
});

test('proxy options: only what the proxy reads, with the timeout capped', () => {
  const o = ok({ url: 'https://api.example.com/v1?a=1', type: 'post', data: { q: 1 }, headers: { Authorization: 'Bearer {{setting.token}}' },
    secure: true, cors: false, httpCompleteResponse: true, timeout: 999_999, autoRetry: false, jwt: { algorithm: 'HS256' },
    xhrFields: { withCredentials: true }, dataType: 'json', contentType: 'application/json' });
  assert.deepEqual(proxyOptions(o, new URL(o.url)), { url: 'https://api.example.com/v1?a=1', type: 'POST',
    headers: { Authorization: 'Bearer {{setting.token}}' }, timeout: MAX_TIMEOUT_MS, data: { q: 1 }, contentType: 'application/json',
    dataType: 'json', secure: true, jwt: { algorithm: 'HS256' }, autoRetry: false });
  assert.deepEqual(Object.keys(proxyOptions(ok('https://a.test/'), new URL('https://a.test/'))), ['url', 'type', 'headers', 'timeout']);
});

/**
 * A fake bridge sender and a stubbed fetch; returns what was posted.
 * @param {(url: string, init: RequestInit) => Promise<Response>} fetchImpl
 */
function harness(fetchImpl) {
  /** @type {any[]} */
  const posts = [];
  /** @type {Array<() => void>} */
  const onDestroy = [];
  /** @type {Array<{url: string, init: RequestInit}>} */
  const calls = [];
  const saved = globalThis.fetch;
  globalThis.fetch = /** @type {any} */ ((/** @type {string} */ url, /** @type {RequestInit} */ init) => { calls.push({ url, init }); return fetchImpl(url, init); });
  return { posts, onDestroy, calls, sender: { installationId: 7, post: (/** @type {any} */ m) => posts.push(m), onDestroy },
    restore: () => { globalThis.fetch = saved; } };
}

test('the proxied route posts {options} to the sending installation and answers once', async () => {
  const h = harness(async () => new Response(JSON.stringify({ status: 200, statusText: 'OK', headers: { 'content-type': 'application/json' },
    body: '{"ok":true}', retries: 0 }), { status: 200, headers: { 'content-type': 'application/json' } }));
  try {
    // An installation id in the options is ignored: the sender's is used.
    await forwardRequest(h.sender, '3', { url: 'https://api.example.com/v1', installationId: 99, secure: true }, HOST);
    assert.equal(h.calls.length, 1);
    assert.equal(h.calls[0].url, '/api/zaffre/installations/7/proxy');
    assert.equal(h.calls[0].init.method, 'POST');
    const sent = JSON.parse(String(h.calls[0].init.body));
    assert.deepEqual(sent, { options: { url: 'https://api.example.com/v1', type: 'GET', headers: {}, timeout: MAX_TIMEOUT_MS, secure: true } });
    assert.deepEqual(h.posts, [{ key: 'zaf.request:3.done', message: { responseArgs: [{ ok: true }] } }]);
    assert.equal(h.onDestroy.length, 0, 'no destroy hook left behind');
  } finally { h.restore(); }
});

test('refusals and bad options answer .fail without any fetch', async () => {
  const h = harness(async () => { throw new Error('must not fetch'); });
  try {
    await forwardRequest(h.sender, '1', { url: '/auth/logout', type: 'POST' }, HOST);
    await forwardRequest(h.sender, '2', { url: 'https://a.test/', timeout: 'soon' }, HOST);
    assert.equal(h.calls.length, 0);
    assert.deepEqual(h.posts.map((p) => [p.key, p.message.responseArgs[0].status]), [['zaf.request:1.fail', 403], ['zaf.request:2.fail', 400]]);
  } finally { h.restore(); }
});

test('a network failure is status 0 "error"; a destroyed instance gets one "abort" and the fetch is aborted', async () => {
  const h = harness(async () => { throw new TypeError('Failed to fetch'); });
  try {
    await forwardRequest(h.sender, '1', { url: 'https://a.test/', cors: true }, HOST);
    assert.deepEqual(h.posts, [{ key: 'zaf.request:1.fail', message: { responseArgs: [{ status: 0, statusText: 'error', responseText: '', responseJSON: null }] } }]);
  } finally { h.restore(); }

  /** @type {AbortSignal|null|undefined} */
  let signal;
  const hang = harness((_url, init) => {
    signal = init.signal;
    return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  });
  try {
    const pending = forwardRequest(hang.sender, '5', { url: 'https://a.test/', cors: true }, HOST);
    await new Promise((r) => setImmediate(r));
    assert.equal(hang.onDestroy.length, 1);
    for (const fn of hang.onDestroy.splice(0)) fn();
    await pending;
    assert.equal(signal?.aborted, true);
    assert.deepEqual(hang.posts.map((p) => [p.key, p.message.responseArgs[0].statusText]), [['zaf.request:5.fail', 'abort']]);
  } finally { hang.restore(); }
});

test('the host timeout answers status 0 "timeout" once, then aborts the fetch', async () => {
  /** @type {AbortSignal|null|undefined} */
  let signal;
  const h = harness((_url, init) => {
    signal = init.signal;
    return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  });
  try {
    await forwardRequest(h.sender, '9', { url: 'https://a.test/slow', cors: true, timeout: 20 }, HOST);
    assert.equal(signal?.aborted, true);
    assert.deepEqual(h.posts, [{ key: 'zaf.request:9.fail', message: { responseArgs: [{ status: 0, statusText: 'timeout', responseText: '', responseJSON: null }] } }]);
    assert.equal(h.onDestroy.length, 0);
  } finally { h.restore(); }
});

test('cors: no credentials unless withCredentials, the app headers as given, placeholders untouched', async () => {
  const h = harness(async () => new Response('plain', { status: 200, headers: { 'content-type': 'text/plain' } }));
  try {
    await forwardRequest(h.sender, '1', { url: 'https://a.test/x?k={{setting.key}}', cors: true, type: 'POST',
      headers: { 'X-Key': '{{setting.key}}' }, data: { a: '{{setting.key}}' } }, HOST);
    const c = h.calls[0];
    assert.equal(c.url, 'https://a.test/x?k={{setting.key}}');
    assert.equal(c.init.credentials, 'omit');
    assert.equal(c.init.mode, 'cors');
    assert.equal(new Headers(c.init.headers).get('x-key'), '{{setting.key}}');
    assert.equal(c.init.body, 'a=%7B%7Bsetting.key%7D%7D');
    await forwardRequest(h.sender, '2', { url: 'https://a.test/', cors: true, xhrFields: { withCredentials: true } }, HOST);
    assert.equal(h.calls[1].init.credentials, 'include');
    assert.deepEqual(h.posts.map((p) => p.message.responseArgs[0]), ['plain', 'plain']);
  } finally { h.restore(); }
});
