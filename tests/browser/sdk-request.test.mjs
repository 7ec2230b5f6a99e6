// client.request() end to end in Chromium, with zaffre's SDK and with Zendesk's npm SDK 2.0.11:
// a test app (tests/browser/apps/request) calls request() and the tests check every route of the
// host (web/assets/host/request.js):
// - zaffre's own /api/v2 with the agent's session (GET, PUT changing the ticket), and a refusal
//   for other paths on the host's origin;
// - `cors: true` straight from the host page to a local http upstream, placeholders left literal,
//   no cookies, the host's timeout;
// - the secure proxy: a local https upstream with a certificate made here and trusted by zaffre
//   through `proxy_ca_file`, reached because `proxy_allow_loopback = true`. The upstream sees the
//   secure setting; the app's replies and everything Chromium's network layer saw (playwright's
//   request/response events in every frame, and the CDP Network domain of the host page) never
//   contain it. Upstream failures, httpCompleteResponse and proxy refusals keep their shapes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor } from './harness.mjs';
import { writeApp, installApp, officialSdkBundle } from './apps.mjs';

/** A recognisable secure setting: it must reach the upstream and nothing in the browser. */
const SECRET = 'zs3cr3t-4a7c9e-do-not-leak';

/** @typedef {{method: string, url: string, headers: import('node:http').IncomingHttpHeaders, body: string}} Seen */

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').BrowserContext} */
let signedIn;
/** @type {{appId: number, installationId: number}} */
let installed;
let officialBundle = '';
/** @type {string} */
let certDir;
/** @type {{url: string, seen: Seen[], close: () => Promise<void>}} */
let plain;
/** @type {{url: string, seen: Seen[], close: () => Promise<void>}} */
let secure;

/**
 * A test upstream that records what it receives. Routes: /ok (JSON echoing nothing secret),
 * /fail (500), /created (201 with a custom header), /slow (answers after 5 s).
 * @param {'http'|'https'} scheme @param {{key: Buffer, cert: Buffer}} [tls]
 */
async function upstream(scheme, tls) {
  /** @type {Seen[]} */
  const seen = [];
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {import('node:http').RequestListener} */
  const handler = (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const cors = { 'Access-Control-Allow-Origin': req.headers.origin ?? '*', 'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '', 'Access-Control-Expose-Headers': 'X-Upstream',
        Vary: 'Origin' };
      if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const p = new URL(req.url ?? '/', 'http://x').pathname;
      if (p === '/fail') { res.writeHead(500, { ...cors, 'Content-Type': 'application/json' }); res.end('{"message":"upstream broke"}'); return; }
      if (p === '/created') { res.writeHead(201, { ...cors, 'Content-Type': 'application/json', 'X-Upstream': 'yes' }); res.end('{"id":42}'); return; }
      if (p === '/slow') { setTimeout(() => { res.writeHead(200, cors); res.end('late'); }, 5000).unref(); return; }
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ greeting: 'hi from upstream', method: req.method }));
    });
  };
  /** @type {import('node:net').Server[]} */
  const listeners = [];
  const first = scheme === 'https' ? https.createServer(/** @type {any} */ (tls), handler) : http.createServer(handler);
  await new Promise((resolve) => first.listen(0, '127.0.0.1', () => resolve(undefined)));
  listeners.push(first);
  const port = /** @type {import('node:net').AddressInfo} */ (first.address()).port;
  if (scheme === 'https') {
    // `localhost` may resolve to ::1 as well: listen there too when the machine has IPv6.
    const second = https.createServer(/** @type {any} */ (tls), handler);
    const ok = await new Promise((resolve) => {
      second.once('error', () => resolve(false));
      second.listen(port, '::1', () => resolve(true));
    });
    if (ok) listeners.push(second);
  }
  for (const l of listeners) l.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const host = scheme === 'https' ? 'localhost' : '127.0.0.1';
  return {
    url: `${scheme}://${host}:${port}`, seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(listeners.map((l) => new Promise((r) => l.close(() => r(undefined)))));
    },
  };
}

/** A test CA and a localhost certificate it signs, made with the openssl CLI. @param {string} dir */
function makeCertificates(dir) {
  const run = (/** @type {string[]} */ args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=zaffre test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost']);
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem',
    '-days', '2', '-extfile', 'leaf.ext']);
}

before(async () => {
  certDir = await mkdtemp(path.join(tmpdir(), 'zaffre-request-tls-'));
  await writeFile(path.join(certDir, 'leaf.ext'), ['subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', 'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  makeCertificates(certDir);
  plain = await upstream('http');
  secure = await upstream('https', { key: await readFile(path.join(certDir, 'leaf.key')), cert: await readFile(path.join(certDir, 'leaf.pem')) });
  server = await startServer({
    config: `proxy_allow_loopback = true\nproxy_ca_file = ${JSON.stringify(path.join(certDir, 'ca.pem'))}\n`,
  });
  browser = await launchBrowser();
  installed = await installApp(server, await writeApp('Requests', 'request'), { greeting: 'Hej', api_token: SECRET });
  officialBundle = await officialSdkBundle();
  const first = await newPage(browser);
  await login(first.page, server.url);
  signedIn = first.context;
  await first.page.close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await plain?.close();
  await secure?.close();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

/**
 * Opens a ticket with the Requests app registered in its sidebar; records the network traffic
 * Chromium saw (playwright events for every frame, CDP Network events for the host page).
 * @param {'zaffre'|'zendesk'} sdk
 */
async function open(sdk) {
  const ticket = await someOpenTicket(server);
  const page = await signedIn.newPage();
  /** @type {Array<Promise<string>>} */
  const traffic = [];
  page.on('request', (req) => {
    traffic.push(req.allHeaders().then((h) => `${req.method()} ${req.url()} ${JSON.stringify(h)} ${req.postData() ?? ''}`));
  });
  page.on('response', (res) => {
    // The workspace's live-update EventSource never ends: its body cannot be awaited.
    const stream = /event-stream/.test(res.headers()['content-type'] ?? '');
    traffic.push(Promise.all([res.allHeaders(), stream ? '' : res.text().catch(() => '')])
      .then(([h, body]) => `${res.status()} ${res.url()} ${JSON.stringify(h)} ${body}`));
  });
  const cdp = await signedIn.newCDPSession(page);
  await cdp.send('Network.enable');
  /** @type {string[]} */
  const cdpLog = [];
  cdp.on('Network.requestWillBeSent', (e) => cdpLog.push(JSON.stringify(e.request)));
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => cdpLog.push(JSON.stringify(e.headers)));
  cdp.on('Network.responseReceived', (e) => cdpLog.push(JSON.stringify(e.response)));
  cdp.on('Network.responseReceivedExtraInfo', (e) => cdpLog.push(JSON.stringify(e.headers)));
  cdp.on('Network.loadingFinished', (e) => {
    traffic.push(cdp.send('Network.getResponseBody', { requestId: e.requestId }).then((b) => b.body, () => ''));
  });
  if (sdk === 'zendesk') {
    await page.route('**/__zaffre/zaf_sdk.js*', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: officialBundle }));
  }
  await page.goto(`${server.url}/tickets/${ticket.id}`);
  await page.locator('#shell:not([hidden])').waitFor();
  const frame = /** @type {import('playwright-core').Frame} */ (await waitFor(async () => {
    for (const f of page.frames()) {
      if (!f.url().startsWith(`http://app-${installed.appId}.localhost:`)) continue;
      if (await f.evaluate(() => Boolean(/** @type {any} */ (window).registered)).catch(() => false)) return f;
    }
    return null;
  }, { message: 'the Requests app registers' }));
  /** Everything the browser's network layer saw so far, as one string. */
  const networkLog = async () => (await Promise.all(traffic)).join('\n') + cdpLog.join('\n');
  return { page, frame, ticket, networkLog, cdpLog };
}

/**
 * Calls request() in the app; returns {done} or {fail}.
 * @param {import('playwright-core').Frame} frame @param {unknown} options
 * @returns {Promise<{done?: any, fail?: any}>}
 */
function send(frame, options) {
  return frame.evaluate((o) => /** @type {any} */ (window).send(o), options);
}

for (const sdk of /** @type {const} */ (['zaffre', 'zendesk'])) {
  test(`${sdk} SDK: relative /api/v2 GET and PUT with the agent's session; other host paths refused`, async () => {
    const { page, frame, ticket } = await open(sdk);
    const got = await send(frame, `/api/v2/tickets/${ticket.id}.json`);
    assert.equal(got.done?.ticket?.id, ticket.id);
    const complete = await send(frame, { url: `/api/v2/tickets/${ticket.id}.json`, httpCompleteResponse: true });
    assert.equal(complete.done.status, 200);
    assert.equal(complete.done.responseJSON.ticket.id, ticket.id);
    assert.equal(JSON.parse(complete.done.responseText).ticket.id, ticket.id);
    assert.match(complete.done.headers['content-type'], /application\/json/);

    const subject = `Changed through request() (${sdk})`;
    const put = await send(frame, { url: `/api/v2/tickets/${ticket.id}.json`, type: 'PUT', contentType: 'application/json',
      data: JSON.stringify({ ticket: { subject } }) });
    assert.equal(put.done?.ticket?.subject, subject);
    assert.equal((await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket.subject, subject);

    const missing = await send(frame, { url: '/api/v2/tickets/999999999.json' });
    assert.equal(missing.fail?.status, 404);
    assert.equal(missing.fail.statusText, 'Not Found');
    assert.equal(typeof missing.fail.responseText, 'string');
    assert.ok(missing.fail.responseJSON && typeof missing.fail.responseJSON === 'object');

    for (const url of ['/api/zaffre/apps/installed.json', `${server.url}/auth/session`, '/api/v2/../zaffre/proxy_audit.json',
      `/api/zaffre/installations/${installed.installationId}/proxy`]) {
      const refused = await send(frame, { url, type: 'POST', data: { options: { url: 'https://example.com/' } } });
      assert.equal(refused.fail?.status, 403, url);
      assert.equal(refused.fail.statusText, 'Forbidden');
      assert.equal(refused.fail.responseText, `${url} is not a proxyable URI`);
    }
    const bad = await send(frame, { url: '/api/v2/users/me.json', headers: { 'X-Count': 3 } });
    assert.equal(bad.fail?.status, 400);
    assert.match(bad.fail.responseText, /header "X-Count" must be a string/);
    await page.close();
  });

  test(`${sdk} SDK: cors: true is a direct fetch without credentials or interpolation; timeouts answer status 0`, async () => {
    const { page, frame } = await open(sdk);
    const before = plain.seen.length;
    const got = await send(frame, { url: `${plain.url}/ok?token={{setting.api_token}}`, cors: true, type: 'POST',
      headers: { 'X-Token': '{{setting.api_token}}', 'X-Greeting': '{{setting.greeting}}' }, data: { t: '{{setting.api_token}}' } });
    assert.deepEqual(got.done, { greeting: 'hi from upstream', method: 'POST' });
    const req = plain.seen.slice(before).find((s) => s.url.startsWith('/ok'));
    assert.ok(req, 'the upstream was called');
    assert.equal(req.url, '/ok?token={{setting.api_token}}');
    assert.equal(req.headers['x-token'], '{{setting.api_token}}');
    assert.equal(req.headers['x-greeting'], '{{setting.greeting}}');
    assert.equal(req.body, 't=%7B%7Bsetting.api_token%7D%7D');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
    assert.equal(req.headers.origin, new URL(server.url).origin, 'sent by the host page');
    assert.equal(req.headers.cookie, undefined, 'the agent\'s cookies stay home (same host, other port)');

    const failed = await send(frame, { url: `${plain.url}/fail`, cors: true });
    assert.deepEqual(failed.fail, { status: 500, statusText: 'Internal Server Error', responseText: '{"message":"upstream broke"}',
      responseJSON: { message: 'upstream broke' } });
    const created = await send(frame, { url: `${plain.url}/created`, cors: true, type: 'POST', httpCompleteResponse: true });
    assert.equal(created.done.status, 201);
    assert.deepEqual(created.done.responseJSON, { id: 42 });
    assert.equal(created.done.headers['x-upstream'], 'yes');
    const slow = await send(frame, { url: `${plain.url}/slow`, cors: true, timeout: 300 });
    assert.deepEqual(slow.fail, { status: 0, statusText: 'timeout', responseText: '', responseJSON: null });
    await page.close();
  });

  test(`${sdk} SDK: a secure request reaches the https upstream with the secret; the browser never sees it`, async () => {
    const { page, frame, networkLog, cdpLog } = await open(sdk);
    const before = secure.seen.length;
    const got = await send(frame, { url: `${secure.url}/ok`, secure: true, headers: { Authorization: 'Bearer {{setting.api_token}}' } });
    assert.deepEqual(got.done, { greeting: 'hi from upstream', method: 'GET' }, JSON.stringify(got));
    const req = secure.seen.slice(before).find((s) => s.url === '/ok');
    assert.ok(req, 'the upstream was called');
    assert.equal(req.headers.authorization, `Bearer ${SECRET}`, 'the upstream sees the secure setting');
    assert.equal(req.headers.cookie, undefined, 'no browser cookie is forwarded');
    assert.doesNotMatch(req.headers['user-agent'] ?? '', /Chrome/, 'the proxy, not the browser, called');

    const failed = await send(frame, { url: `${secure.url}/fail`, secure: true, headers: { Authorization: 'Bearer {{setting.api_token}}' } });
    assert.deepEqual(failed.fail, { status: 500, statusText: 'Internal Server Error', responseText: '{"message":"upstream broke"}',
      responseJSON: { message: 'upstream broke' } });
    const created = await send(frame, { url: `${secure.url}/created`, type: 'POST', secure: true, httpCompleteResponse: true,
      contentType: 'application/json', data: JSON.stringify({ a: 1 }), headers: { 'X-Api-Key': '{{setting.api_token}}' } });
    assert.equal(created.done?.status, 201, JSON.stringify(created));
    assert.deepEqual(created.done.responseJSON, { id: 42 });
    assert.equal(created.done.responseText, '{"id":42}');
    assert.equal(created.done.headers['x-upstream'], 'yes');
    assert.equal(secure.seen.at(-1)?.headers['x-api-key'], SECRET);
    assert.equal(secure.seen.at(-1)?.body, '{"a":1}');

    const everything = JSON.stringify([got, failed, created]) + await networkLog();
    assert.ok(everything.includes('/api/zaffre/installations/'), 'the network log recorded the proxy calls');
    assert.ok(everything.includes('{{setting.api_token}}'), 'the network log recorded the request options');
    assert.ok(cdpLog.some((e) => e.includes('/proxy') && e.includes('{{setting.api_token}}')), 'CDP saw the proxy calls too');
    assert.ok(!everything.includes(SECRET), 'the secret appears in no reply and nowhere in the browser\'s network log');
    await page.close();
  });

  test(`${sdk} SDK: proxy refusals answer .fail with their status and message`, async () => {
    const { page, frame } = await open(sdk);
    const before = secure.seen.length;
    const privateTarget = await send(frame, { url: 'http://10.0.0.1/', secure: false });
    assert.equal(privateTarget.fail?.status, 403, JSON.stringify(privateTarget));
    assert.equal(privateTarget.fail.statusText, 'Forbidden');
    assert.match(privateTarget.fail.responseText, /is not a proxyable URI/);
    assert.equal(typeof privateTarget.fail.responseJSON?.error, 'string');

    const unknown = await send(frame, { url: `${secure.url}/ok`, secure: true, headers: { 'X-Key': '{{setting.nope}}' } });
    assert.equal(unknown.fail?.status, 422, JSON.stringify(unknown));
    assert.equal(secure.seen.length, before, 'no refused request reached the upstream');
    await page.close();
  });

  test(`${sdk} SDK: zaffre's own listen address is refused through the proxy, even with loopback allowed`, async () => {
    const { page, frame } = await open(sdk);
    // Another origin for the page (localhost, not 127.0.0.1), so it goes to the proxy, which must not call zaffre.
    const own = await send(frame, { url: `${server.url.replace('127.0.0.1', 'localhost')}/api/v2/users/me.json` });
    assert.equal(own.fail?.status, 403, JSON.stringify(own));
    assert.match(own.fail.responseText, /is not a proxyable URI/);
    await page.close();
  });
}
