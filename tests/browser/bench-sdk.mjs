// SDK benchmark in headless Chromium (not a test). Run it through xtask, which builds the release
// binary and can record the figures in docs/benchmarks.md:
//   cargo xtask bench sdk [--record]
// or by hand:
//   cargo build --release -p zaffre && ZAFFRE_BIN=$PWD/target/release/zaffre node tests/browser/bench-sdk.mjs
// Installs the conformance app, opens a ticket, and measures from inside the app iframe:
// a bare postMessage round trip to the workspace page (the floor), client.get('ticket.subject'),
// a bulk get of 50 paths, and the time from iframe creation to app.registered with cached
// assets, split into its stages from the frame's Resource Timing. Also the gzipped sizes of
// zaffre's SDK as served and of Zendesk's npm SDK bundled by esbuild. With BENCH_SDK_JSON=<file>
// the figures are also written there as JSON (xtask reads them).
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor } from './harness.mjs';
import { writeApp, installApp, officialSdkBundle } from './apps.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 1000);
const REGISTRATIONS = Number(process.env.REGISTRATIONS ?? 30);

/** Nearest-rank percentile. @param {number[]} xs @param {number} p */
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** @param {number[]} xs */
const summary = (xs) => ({ samples: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), min: Math.min(...xs), max: Math.max(...xs) });

/** The SDK bytes an app origin serves. @param {string} serverUrl @param {number} appId @returns {Promise<Buffer>} */
function servedSdk(serverUrl, appId) {
  const port = new URL(serverUrl).port;
  return new Promise((resolve, reject) => {
    // Node does not resolve *.localhost; send the app origin's Host to the loopback address.
    const req = request({ host: '127.0.0.1', port, path: '/__zaffre/zaf_sdk.js', headers: { Host: `app-${appId}.localhost:${port}` } }, (r) => {
      /** @type {Buffer[]} */
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => (r.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`SDK answered ${r.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
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
    // 50 distinct path strings (a repeated path would collapse into one key of the result).
    const fifty = Array.from({ length: 50 }, (_, i) => (i < paths.length ? paths[i] : `currentUser.${['id', 'name', 'email', 'role', 'locale'][i % 5]}`));
    const ping = () => new Promise((resolve) => {
      const on = (/** @type {MessageEvent} */ ev) => { if (ev.data === 'bench-pong') { removeEventListener('message', on); resolve(undefined); } };
      addEventListener('message', on);
      parent.postMessage('bench-ping', origin);
    });
    for (let i = 0; i < 50; i++) { await ping(); await client.get('ticket.subject'); await client.get(fifty); }
    for (let i = 0; i < rounds; i++) {
      let t = performance.now(); await ping(); bare.push(performance.now() - t);
      t = performance.now(); await client.get('ticket.subject'); get.push(performance.now() - t);
      if (i % 5 === 0) { t = performance.now(); await client.get(fifty); bulk.push(performance.now() - t); }
    }
    return { bare, get, bulk };
  }, ROUNDS));

  // Iframe creation to app.registered, assets cached: leave the ticket page and come back, which
  // makes a new sidebar iframe each time. The page notes when the iframe element is inserted; the
  // app notes when its init callback runs; both clocks are performance.timeOrigin-based.
  /** @type {number[]} */
  const registration = [];
  /** @type {Record<string, number[]>} */
  const stages = { navigationStart: [], htmlLoaded: [], sdkLoaded: [], scriptsRun: [], registered: [] };
  /** @type {Record<string, number>} */
  const transfer = { html: 0, sdk: 0, main: 0 };
  for (let i = 0; i < REGISTRATIONS + 1; i++) {
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
    const t = /** @type {any} */ (await f.evaluate(() => {
      const w = /** @type {any} */ (window);
      const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
      const res = /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType('resource'));
      const sdk = res.find((r) => r.name.includes('zaf_sdk'));
      const main = res.find((r) => r.name.endsWith('main.js'));
      const at = (/** @type {number|undefined} */ x) => (x === undefined ? null : performance.timeOrigin + x);
      return { origin: performance.timeOrigin, html: at(nav?.responseEnd), sdk: at(sdk?.responseEnd), main: at(main?.responseEnd),
        scripts: at(nav?.domInteractive), registered: w.registeredAt,
        transfer: { html: nav?.transferSize ?? 0, sdk: sdk?.transferSize ?? 0, main: main?.transferSize ?? 0 } };
    }));
    const created = /** @type {number} */ (await page.evaluate(() => /** @type {any} */ (window).benchCreated));
    if (i === 0) continue; // the first one warms the caches up
    registration.push(t.registered - created);
    stages.navigationStart.push(t.origin - created);
    if (t.html) stages.htmlLoaded.push(t.html - created);
    if (t.sdk) stages.sdkLoaded.push(t.sdk - created);
    if (t.scripts) stages.scriptsRun.push(t.scripts - created);
    stages.registered.push(t.registered - created);
    for (const k of Object.keys(transfer)) transfer[k] += t.transfer[k];
  }

  const zaffreSdk = await servedSdk(server.url, appId);
  const zendeskSdk = await officialSdkBundle().then((text) => Buffer.from(text));
  const sizes = {
    zaffre: { raw: zaffreSdk.length, gzip: gzipSync(zaffreSdk, { level: 9 }).length },
    official: { raw: zendeskSdk.length, gzip: gzipSync(zendeskSdk, { level: 9 }).length },
  };
  const out = {
    rounds: ROUNDS,
    chromium: browser.version(),
    bare: summary(results.bare),
    get: summary(results.get),
    bulk50: summary(results.bulk),
    registration: summary(registration),
    stages: Object.fromEntries(Object.entries(stages).map(([k, xs]) => [k, xs.length ? pct(xs, 50) : null])),
    transfer: Object.fromEntries(Object.entries(transfer).map(([k, v]) => [k, Math.round(v / REGISTRATIONS)])),
    sizes,
  };
  const row = (/** @type {string} */ name, /** @type {{samples: number, p50: number, p99: number}} */ x) =>
    `| ${name} | ${x.samples} | ${x.p50.toFixed(3)} ms | ${x.p99.toFixed(3)} ms |`;
  console.log(`| measurement | samples | p50 | p99 |\n|---|--:|--:|--:|`);
  console.log(row('bare postMessage round trip (frame → page → frame)', out.bare));
  console.log(row("client.get('ticket.subject')", out.get));
  console.log(row('client.get of 50 paths', out.bulk50));
  console.log(row('iframe creation → app.registered (cached assets)', out.registration));
  console.log(`\nratios: get/bare p50 ${(out.get.p50 / out.bare.p50).toFixed(2)}, bulk50/bare p50 ${(out.bulk50.p50 / out.bare.p50).toFixed(2)}`);
  console.log(`registration stages (p50 ms after the iframe was inserted): ${JSON.stringify(out.stages)}`);
  console.log(`bytes transferred per registration: ${JSON.stringify(out.transfer)}`);
  console.log(`SDK sizes: ${JSON.stringify(sizes)}`);
  if (process.env.BENCH_SDK_JSON) await writeFile(process.env.BENCH_SDK_JSON, JSON.stringify(out, null, 2));
} finally {
  await browser.close();
  await server.stop();
}
