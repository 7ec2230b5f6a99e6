// `zaffre dev` end to end (issue 7, "Done when"): the release binary runs `zaffre dev` on a copy of
// the `zaffre app new` scaffold, extended here with a secure setting supplied by environment
// variable (ZAFFRE_SETTING_MOCK_KEY), a loopback mock upstream (`localhost`) in domainWhitelist, a button that
// makes a secure request to it, and a ticket.save hook. Chromium signs in through the one-time
// link the CLI prints. The test checks: the dev banner; the upstream receives the secret while the
// page, the app and everything the browser's network saw never do; an edit to the app's HTML
// reloads its iframe with the change; a manifest that stops validating shows a dismissable error
// that returns with the next report and goes away once fixed; and the event console shows the
// traffic and fires ticket.save (a rehearsal that saves nothing, then a real save).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, waitFor, screenshot } from './harness.mjs';
import { startDev } from './dev.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');
/** A recognisable secure value: the upstream must get it, the browser never. */
const SECRET = 'zdev-s3cr3t-7f41b2-never-in-the-browser';
const HOOK_VETO = 'Blocked by the dev test hook';

/** @typedef {{method: string, url: string, headers: import('node:http').IncomingHttpHeaders}} Seen */

/** @type {string} */
let work;
/** @type {string} */
let appDir;
/** @type {{port: number, seen: Seen[], close: () => Promise<void>}} */
let mock;
/** @type {import('./dev.mjs').DevHost} */
let dev;
/** @type {import('playwright-core').Browser} */
let browser;

/**
 * A loopback HTTP upstream at `localhost` (127.0.0.1, and ::1 when the machine has IPv6) that
 * records every request and answers JSON without echoing headers.
 */
async function startMock() {
  /** @type {Seen[]} */
  const seen = [];
  /** @type {import('node:http').RequestListener} */
  const handler = (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ mock: 'ok', path: new URL(req.url ?? '/', 'http://x').pathname }));
  };
  const servers = [http.createServer(handler)];
  await new Promise((resolve) => servers[0].listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (servers[0].address()).port;
  const v6 = http.createServer(handler);
  if (await new Promise((resolve) => { v6.once('error', () => resolve(false)); v6.listen(port, '::1', () => resolve(true)); })) servers.push(v6);
  return {
    port, seen,
    close: () => Promise.all(servers.map((s) => new Promise((resolve) => { s.closeAllConnections(); s.close(() => resolve(undefined)); }))).then(() => undefined),
  };
}

/**
 * Writes the scaffold with `zaffre app new` and extends it: a required secure setting for the mock
 * (header scope), the mock's host in domainWhitelist, a button making the secure request, and a
 * ticket.save hook that vetoes until the page sets `window.allowSave`.
 * @param {number} port
 */
async function writeDevApp(port) {
  execFileSync(BIN, ['app', 'new', 'Dev helper'], { cwd: work, stdio: 'pipe' });
  const dir = path.join(work, 'dev-helper');
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  manifest.domainWhitelist = [...manifest.domainWhitelist, 'localhost'];
  manifest.parameters.push({ name: 'mock_key', type: 'text', required: true, secure: true, scopes: ['header'] });
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
  const translationsFile = path.join(dir, 'translations/en.json');
  const translations = JSON.parse(await readFile(translationsFile, 'utf8'));
  translations.app.parameters.mock_key = { label: 'Key for the mock API', helpText: 'Sent in X-Api-Key.' };
  await writeFile(translationsFile, JSON.stringify(translations, null, 2));
  const htmlFile = path.join(dir, 'assets/iframe.html');
  const html = await readFile(htmlFile, 'utf8');
  await writeFile(htmlFile, html.replace('<p id="status" role="status"></p>',
    '<button id="call-mock" type="button">Call the mock</button>\n  <p id="hook">hook idle</p>\n  <p id="status" role="status"></p>'));
  const js = await readFile(path.join(dir, 'assets/main.js'), 'utf8');
  await writeFile(path.join(dir, 'assets/main.js'), `${js}
// Added by the dev test: a secure request to the loopback mock, and a ticket.save hook.
window.client = client; // the test subscribes to a custom event through it
let hookRuns = 0;
$('call-mock').addEventListener('click', async () => {
  try {
    const reply = await client.request({
      url: 'http://localhost:${port}/v1/check',
      secure: true,
      headers: { 'X-Api-Key': '{{setting.mock_key}}' },
    });
    window.mockReply = reply;
    status('The mock answered: ' + JSON.stringify(reply));
  } catch (error) {
    window.mockReply = error;
    status('The mock call failed (' + (error.status || 'no answer') + ')');
  }
});
client.on('ticket.save', () => {
  hookRuns += 1;
  $('hook').textContent = 'hook ran ' + hookRuns;
  return window.allowSave ? true : ${JSON.stringify(HOOK_VETO)};
});
`);
  return dir;
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'zaffre-dev-test-'));
  mock = await startMock();
  appDir = await writeDevApp(mock.port);
  dev = await startDev([appDir, '--fresh', '--listen', '127.0.0.1:0', '--data-dir', path.join(work, 'data')],
    { cwd: work, env: { ZAFFRE_SETTING_MOCK_KEY: SECRET } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  await mock?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The app's ticket_sidebar frame (a new one after each reload). @param {import('playwright-core').Page} page @param {string} [notGuid] */
async function appFrame(page, notGuid) {
  const frame = await waitFor(() => page.frames().find((f) => {
    const u = f.url();
    return /^https?:\/\/app-\d+\.localhost[:/]/.test(u) && new URL(u).searchParams.get('app_guid') !== notGuid;
  }), { message: 'the app iframe appears', timeoutMs: 15_000 });
  const f = /** @type {import('playwright-core').Frame} */ (frame);
  await f.locator('#subject:not(:text("…"))').waitFor({ timeout: 15_000 });
  return f;
}

test('zaffre dev: banner, secure request to a loopback mock, live reload, validation errors, event console and ticket.save', { timeout: 180_000 }, async () => {
  const { page, context, errors } = await newPage(browser, { width: 1400, height: 900 });
  // Everything the browser's network layer sees, in every frame: no request or response may carry the secret.
  /** @type {string[]} */
  const network = [];
  context.on('request', (req) => { network.push(`${req.method()} ${req.url()} ${JSON.stringify(req.headers())} ${req.postData() ?? ''}`); });
  context.on('response', async (res) => {
    try { network.push(`${res.status()} ${res.url()} ${JSON.stringify(await res.allHeaders())} ${await res.text()}`); } catch { /* bodies of redirects and aborted loads */ }
  });

  // Sign in through the one-time link; it opens a ticket with the app.
  await page.goto(dev.link);
  await page.locator('#shell:not([hidden])').waitFor();
  assert.match(new URL(page.url()).pathname, /^\/tickets\/\d+$/, 'the link opens at a ticket');
  const status = await page.evaluate(() => fetch('/api/zaffre/dev').then((r) => r.json()));
  assert.equal(status.dev, true);
  const app = status.apps.find((/** @type {any} */ a) => a.name === 'Dev helper');
  assert.ok(app, `the dev status lists the app: ${JSON.stringify(status)}`);
  assert.equal(app.status, 'ok');

  // The banner.
  const banner = page.locator('#dev-banner');
  await banner.waitFor();
  assert.match(await banner.innerText(), /Development mode — loopback upstreams allowed/);
  assert.match(await banner.innerText(), /HTTP \(no TLS\)/);

  // The secure request: the upstream gets the secret; the app gets the mock's answer only.
  let frame = await appFrame(page);
  await page.locator('#dev-console-toggle').click();
  await page.locator('#dev-console:not([hidden])').waitFor();
  await frame.getByRole('button', { name: 'Call the mock' }).click();
  await frame.locator('#status', { hasText: 'The mock answered' }).waitFor({ timeout: 15_000 });
  assert.equal(mock.seen.length, 1, 'one request reached the mock');
  assert.equal(mock.seen[0].url, '/v1/check');
  assert.equal(mock.seen[0].headers['x-api-key'], SECRET, 'the mock received the secure setting');
  assert.deepEqual(await frame.evaluate(() => /** @type {any} */ (window).mockReply), { mock: 'ok', path: '/v1/check' });
  // The console shows the request with its placeholder and the reply.
  const log = page.locator('#dev-console .dev-log');
  await log.locator('.dev-row[data-kind="request"]', { hasText: 'http://localhost:' }).waitFor();
  await log.locator('.dev-row[data-kind="response"]', { hasText: 'done' }).waitFor();
  await log.locator('.dev-row[data-kind="request"] .dev-row-line').first().click();
  assert.match(await log.locator('.dev-row[data-kind="request"] .dev-detail').first().innerText(), /\{\{setting\.mock_key\}\}/);

  // Live reload: an edit to the app's HTML recreates its iframe with the change, in the same place.
  const oldGuid = new URL(frame.url()).searchParams.get('app_guid') ?? '';
  const htmlFile = path.join(appDir, 'assets/iframe.html');
  await writeFile(htmlFile, (await readFile(htmlFile, 'utf8')).replace('<p id="greeting"></p>', '<p id="greeting"></p>\n  <p id="edited">Edited live</p>'));
  frame = await appFrame(page, oldGuid);
  assert.equal(await frame.locator('#edited').textContent(), 'Edited live');
  assert.equal(await page.locator('[data-app-location="ticket_sidebar"] iframe.app-frame').count(), 1, 'the old iframe is gone');
  await banner.locator('.dev-banner-reload', { hasText: 'Reloaded Dev helper' }).waitFor();
  await log.locator('.dev-row[data-kind="reload"]').waitFor();

  // ticket.save from the console: a rehearsal runs the hook and reports the veto; nothing is saved.
  const ticketId = Number(new URL(page.url()).pathname.split('/').pop());
  const before = await page.evaluate((id) => fetch(`/api/v2/tickets/${id}/comments.json`).then((r) => r.json()), ticketId);
  await frame.locator('#hook', { hasText: 'hook idle' }).waitFor();
  await page.locator('#dev-rehearse-save').click();
  await page.locator('#dev-outcome', { hasText: `aborted — ${HOOK_VETO}` }).waitFor({ timeout: 15_000 });
  assert.equal(await frame.locator('#hook').textContent(), 'hook ran 1', 'the app\'s hook ran');
  await log.locator('.dev-row[data-kind="hook"]', { hasText: 'veto' }).waitFor();
  await log.locator('.dev-row[data-kind="outcome"]', { hasText: 'aborted' }).waitFor();
  await frame.evaluate(() => { /** @type {any} */ (window).allowSave = true; });
  await page.locator('#dev-rehearse-save').click();
  await page.locator('#dev-outcome', { hasText: 'allowed' }).waitFor();
  assert.equal(await frame.locator('#hook').textContent(), 'hook ran 2');
  const afterRehearsals = await page.evaluate((id) => fetch(`/api/v2/tickets/${id}/comments.json`).then((r) => r.json()), ticketId);
  assert.equal(afterRehearsals.comments.length, before.comments.length, 'a rehearsal saves nothing');
  // "Save for real" submits the ticket through the page: the hook runs, then the save lands.
  await page.getByLabel('Comment', { exact: true }).fill('Saved from the event console');
  await page.locator('#dev-save-real').click();
  await page.locator('.toast', { hasText: 'updated' }).waitFor({ timeout: 15_000 });
  assert.equal(await frame.locator('#hook').textContent(), 'hook ran 3');
  const afterSave = await page.evaluate((id) => fetch(`/api/v2/tickets/${id}/comments.json`).then((r) => r.json()), ticketId);
  assert.equal(afterSave.comments.length, before.comments.length + 1, 'the real save landed');

  // A custom event with a JSON payload reaches the app's listener, as client.trigger would.
  await frame.evaluate(() => {
    /** @type {any} */ (window).client.on('dev.ping', (/** @type {any} */ data) => { /** @type {any} */ (window).pinged = data; });
  });
  await page.waitForTimeout(200); // the subscription travels by postMessage
  await page.locator('#dev-event-name').fill('dev.ping');
  await page.locator('#dev-event-payload').fill('{"n": 7}');
  await page.getByRole('button', { name: 'Trigger event' }).click();
  await waitFor(() => frame.evaluate(() => /** @type {any} */ (window).pinged?.n === 7), { message: 'the custom event arrives' });
  await page.locator('#dev-event-payload').fill('{not json');
  await page.getByRole('button', { name: 'Trigger event' }).click();
  await page.locator('#dev-payload-error', { hasText: 'Not JSON' }).waitFor();

  await page.locator('#dev-console-filter').selectOption({ label: 'Dev helper (every instance)' });
  await screenshot(page, 'dev-console');

  // A manifest that stops validating: the banner shows the error; dismissed, it returns with the
  // next report; fixed, it goes away and the app reloads.
  const manifestFile = path.join(appDir, 'manifest.json');
  const good = await readFile(manifestFile, 'utf8');
  await writeFile(manifestFile, good.replace('"frameworkVersion": "2.0"', '"frameworkVersion": "7.5"'));
  const error = banner.locator('.dev-error', { hasText: 'Dev helper' });
  await error.waitFor({ timeout: 15_000 });
  await error.getByRole('button', { name: /Dismiss/ }).click();
  await error.waitFor({ state: 'detached' });
  await writeFile(manifestFile, good.replace('"frameworkVersion": "2.0"', '"frameworkVersion": "8.5"'));
  await error.waitFor({ timeout: 15_000 });
  const invalidFrame = await appFrame(page);
  await writeFile(manifestFile, good);
  await error.waitFor({ state: 'detached', timeout: 15_000 });
  await appFrame(page, new URL(invalidFrame.url()).searchParams.get('app_guid') ?? '');

  // The secret never reached the browser: not the page, not any frame, not the network.
  for (const f of page.frames()) {
    const content = await f.content().catch(() => '');
    assert.ok(!content.includes(SECRET), `frame ${f.url()} does not contain the secret`);
  }
  assert.ok(network.length > 10, 'the network log recorded the session');
  assert.deepEqual(network.filter((n) => n.includes(SECRET)), [], 'no request or response the browser saw carries the secret');
  assert.ok(!dev.output().includes(SECRET), 'zaffre dev did not print the secret');
  assert.deepEqual(errors, []);
  await context.close();
});
