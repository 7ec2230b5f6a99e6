// The `zaffre app new` scaffold, packaged with `zaffre app package` and installed through the
// REST API, runs in the ticket sidebar of the demo helpdesk: it reads the ticket, follows edits
// live, and changes the ticket. Also checks the isolation an app origin gives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor, screenshot } from './harness.mjs';
import { writeApp, installApp } from './apps.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {{appId: number, installationId: number}} */
let installed;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  installed = await installApp(server, await writeApp('Ticket helper'), { greeting: 'Hi from the scaffold' });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The app's frame on a page. @param {import('playwright-core').Page} page @param {number} appId */
async function appFrame(page, appId) {
  const frame = await waitFor(() => page.frames().find((f) => f.url().startsWith(`http://app-${appId}.localhost:`)),
    { message: 'the app iframe appears' });
  return /** @type {import('playwright-core').Frame} */ (frame);
}

test('the scaffold shows in the ticket sidebar, reads and changes the ticket live', async () => {
  const ticket = await someOpenTicket(server);
  const { page, context, errors } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  const frame = await appFrame(page, installed.appId);
  const url = new URL(frame.url());
  assert.equal(url.searchParams.get('origin'), server.url, 'the iframe URL carries the exact host origin');
  assert.match(url.searchParams.get('app_guid') ?? '', /^[0-9a-f-]{36}$/);
  await waitFor(async () => (await frame.locator('#subject').textContent()) === ticket.subject, { message: 'the app shows the subject' });
  assert.equal(await frame.locator('#greeting').textContent(), 'Hi from the scaffold');

  // Edits in the workspace reach the app at once.
  await page.getByLabel('Subject', { exact: true }).fill('Edited while the app watches');
  await waitFor(async () => (await frame.locator('#subject').textContent()) === 'Edited while the app watches',
    { message: 'ticket.subject.changed reaches the app' });

  // The app changes the ticket through client.set.
  await frame.getByRole('button', { name: 'Mark as pending' }).click();
  await waitFor(async () => (await page.getByLabel('Status', { exact: true }).inputValue()) === 'pending',
    { message: 'the status control follows the app' });
  await frame.locator('#status', { hasText: 'Status set to pending' }).waitFor();
  // The sidebar took the height the app asked for.
  assert.equal(await page.locator('.app-frame').evaluate((f) => /** @type {HTMLElement} */ (f).style.height), '190px');
  await screenshot(page, 'ticket-with-app');
  assert.deepEqual(errors.filter((e) => !/api\.example\.com/.test(e)), []);
  await context.close();
});

test('an app cannot read the workspace DOM or its cookies', async () => {
  const ticket = await someOpenTicket(server);
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  const frame = await appFrame(page, installed.appId);
  await frame.locator('#subject').waitFor();
  const probe = await frame.evaluate(() => {
    /** @type {Record<string, string>} */
    const out = {};
    try { out.dom = String(window.parent.document.title); } catch (e) { out.dom = 'blocked'; }
    try { out.top = String(/** @type {any} */ (window.top).zaffreTicket); } catch (e) { out.top = 'blocked'; }
    out.cookie = document.cookie;
    out.origin = location.origin;
    return out;
  });
  assert.equal(probe.dom, 'blocked');
  assert.equal(probe.top, 'blocked', 'window properties of another origin are not readable');
  assert.equal(probe.cookie, '');
  assert.match(probe.origin, /^http:\/\/app-\d+\.localhost:\d+$/);
  const hostCookies = await context.cookies(server.url);
  assert.ok(hostCookies.some((c) => c.name === 'zaffre_session'), 'the host has a session cookie');
  await context.close();
});

test('a frame zaffre did not create cannot drive the host, even on the app origin', async () => {
  const ticket = await someOpenTicket(server);
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  const frame = await appFrame(page, installed.appId);
  await frame.locator('#subject').waitFor();
  const guid = new URL(frame.url()).searchParams.get('app_guid');
  const before = await page.getByLabel('Subject', { exact: true }).inputValue();
  // A nested frame of the app's own origin, and the workspace page itself, post a set with the right guid.
  await frame.evaluate((g) => new Promise((resolve) => {
    // The script runs inside the child, so the child is the message's source.
    const msg = JSON.stringify({ id: 999, request: 'set', params: { 'ticket.subject': 'forged by a nested frame' }, appGuid: g, instanceGuid: g });
    const child = document.createElement('iframe');
    child.srcdoc = `<script>parent.parent.postMessage(${JSON.stringify(msg)}, '*');</` + 'script>';
    child.onload = () => resolve(undefined);
    document.body.append(child);
  }), guid);
  await page.evaluate((g) => window.postMessage(JSON.stringify({ id: 998, request: 'set',
    params: { 'ticket.subject': 'forged by the page' }, appGuid: g, instanceGuid: g }), '*'), guid);
  // A message from the real app frame with another guid is dropped too.
  await frame.evaluate(() => window.parent.postMessage(JSON.stringify({ id: 997, request: 'set',
    params: { 'ticket.subject': 'forged guid' }, appGuid: 'someone-else', instanceGuid: 'someone-else' }), '*'));
  await page.waitForTimeout(300);
  assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), before);
  await context.close();
});

test('every app origin serves the zaffre SDK, under 4 KB gzipped', async (t) => {
  const { request } = await import('node:http');
  const { gzipSync } = await import('node:zlib');
  const port = new URL(server.url).port;
  /** @type {{status: number, type: string, body: Buffer}} */
  const res = await new Promise((resolve, reject) => {
    // Node does not resolve *.localhost; send the app origin's Host to the loopback address.
    const req = request({ host: '127.0.0.1', port, path: '/__zaffre/zaf_sdk.js', headers: { Host: `app-${installed.appId}.localhost:${port}` } }, (r) => {
      /** @type {Buffer[]} */
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.status, 200);
  assert.equal(res.type, 'text/javascript; charset=utf-8');
  const gz = gzipSync(res.body, { level: 9 }).length;
  t.diagnostic(`zaffre SDK as served: ${res.body.length} bytes, ${gz} bytes gzipped`);
  assert.ok(gz <= 4096, `${gz} bytes gzipped`);
});
