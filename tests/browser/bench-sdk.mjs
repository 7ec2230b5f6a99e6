// SDK benchmark in headless Chromium (not a test; run it by hand):
//   cargo build -p zaffre && ZAFFRE_BIN=$PWD/target/debug/zaffre node tests/browser/bench-sdk.mjs
// Installs the conformance app, opens a ticket, and measures from inside the app iframe:
// a bare postMessage round trip to the workspace page (the floor), client.get('ticket.subject'),
// a bulk get of 50 paths, and the time from iframe creation to app.registered with cached assets.
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor } from './harness.mjs';
import { writeApp, installApp } from './apps.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 1000);

/** @param {number[]} xs @param {number} p */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const { appId } = await installApp(server, await writeApp('Conformance', 'conformance'));
  const ticket = await someOpenTicket(server);
  const { page } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  const findSidebar = async () => /** @type {import('playwright-core').Frame} */ (await waitFor(async () => {
    for (const f of page.frames()) {
      if (!f.url().startsWith(`http://app-${appId}.localhost:`)) continue;
      const where = await f.evaluate(() => /** @type {any} */ (window).registered?.context?.location).catch(() => null);
      if (where === 'ticket_sidebar') return f;
    }
    return null;
  }, { message: 'the app registers' }));
  const frame = await findSidebar();
  // The workspace page echoes a bare message: the floor for any round trip between the frames.
  await page.evaluate(() => window.addEventListener('message', (ev) => {
    if (ev.data === 'bench-ping') /** @type {Window} */ (ev.source).postMessage('bench-pong', ev.origin);
  }));
  const results = /** @type {{bare: number[], get: number[], bulk: number[]}} */ (await frame.evaluate(async (rounds) => {
    const w = /** @type {any} */ (window);
    const client = w.client;
    const origin = client._origin;
    const bare = [], get = [], bulk = [];
    const paths = ['ticket.id', 'ticket.subject', 'ticket.status', 'ticket.priority', 'ticket.type', 'ticket.tags',
      'ticket.requester.id', 'ticket.requester.name', 'ticket.assignee.user.id', 'ticket.comment.text'];
    const fifty = Array.from({ length: 50 }, (_, i) => paths[i % paths.length] + (i >= paths.length ? '' : ''));
    const ping = () => new Promise((resolve) => {
      const on = (/** @type {MessageEvent} */ ev) => { if (ev.data === 'bench-pong') { removeEventListener('message', on); resolve(undefined); } };
      addEventListener('message', on);
      parent.postMessage('bench-ping', origin);
    });
    for (let i = 0; i < 50; i++) { await ping(); await client.get('ticket.subject'); }
    for (let i = 0; i < rounds; i++) {
      let t = performance.now(); await ping(); bare.push(performance.now() - t);
      t = performance.now(); await client.get('ticket.subject'); get.push(performance.now() - t);
      if (i % 5 === 0) { t = performance.now(); await client.get(fifty); bulk.push(performance.now() - t); }
    }
    return { bare, get, bulk };
  }, ROUNDS));
  // Iframe creation to app.registered, assets cached: reload the ticket page's apps by navigating away and back.
  /** @type {number[]} */
  const registration = [];
  for (let i = 0; i < 10; i++) {
    await page.evaluate(() => { history.pushState(null, '', '/views/my-unsolved'); dispatchEvent(new PopStateEvent('popstate')); });
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.benchCreated = 0;
      const mo = new MutationObserver(() => {
        if (!w.benchCreated && document.querySelector('.apps-panel .app-frame')) { w.benchCreated = performance.timeOrigin + performance.now(); mo.disconnect(); }
      });
      mo.observe(document.body, { childList: true, subtree: true });
    });
    await page.evaluate((id) => { history.pushState(null, '', `/tickets/${id}`); dispatchEvent(new PopStateEvent('popstate')); }, ticket.id);
    const f = await findSidebar();
    const at = await f.evaluate(() => new Promise((resolve) => {
      const w = /** @type {any} */ (window);
      const check = () => (w.registered ? resolve(w.registeredAt ?? performance.timeOrigin + performance.now()) : setTimeout(check, 1));
      check();
    }));
    const created = await page.evaluate(() => /** @type {any} */ (window).benchCreated);
    registration.push(Number(at) - created);
  }
  const row = (/** @type {string} */ name, /** @type {number[]} */ xs) =>
    `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(3)} ms | ${pct(xs, 99).toFixed(3)} ms |`;
  console.log(`| measurement | samples | p50 | p99 |\n|---|--:|--:|--:|`);
  console.log(row('bare postMessage round trip (frame → page → frame)', results.bare));
  console.log(row("client.get('ticket.subject')", results.get));
  console.log(row('client.get of 50 paths', results.bulk));
  console.log(row('iframe creation → app.registered (cached assets; upper bound, polled)', registration));
  console.log(`\nratios: get/bare p50 ${(pct(results.get, 50) / pct(results.bare, 50)).toFixed(2)}, bulk50/bare p50 ${(pct(results.bulk, 50) / pct(results.bare, 50)).toFixed(2)}`);
} finally {
  await browser.close();
  await server.stop();
}
