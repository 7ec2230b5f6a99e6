// `zaffre dev --https` in Chromium (issue 7, "Done when"): the release binary runs `zaffre dev --https`
// on a copy of the `zaffre app new` scaffold with a fresh local CA (ZAFFRE_DEV_CA_DIR). The CA is
// trusted the way a developer would on Linux, for this test only: Chromium reads trust anchors from
// the NSS database under $HOME/.pki/nssdb, so the browser gets a temporary HOME whose database holds
// the CA (certutil, from Debian's libnss3-tools). No certificate error is ignored. The test signs in
// through the one-time https link the CLI prints, opens the ticket and checks that the workspace and
// the app's iframe (https://app-<id>.localhost:<port>) load over TLS from the dev CA, the app
// registers and reads the ticket subject through the SDK, and nothing reports a certificate error,
// mixed content or a failed load; an app origin unknown at start gets a certificate naming it; a
// restart reuses the trusted CA. The control: a Chromium whose NSS database lacks the CA refuses
// the same host with ERR_CERT_AUTHORITY_INVALID.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, waitFor, screenshot } from './harness.mjs';
import { startDev } from './dev.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');
const CERTUTIL = '/usr/bin/certutil';
/** The CA's common name, as zaffre's dev CA writes it (crates/zaffre-cli/src/dev/tls.rs). */
const CA_NAME = 'zaffre dev CA';

/** @type {string} */
let work;
/** @type {string} */
let caDir;
/** @type {import('./dev.mjs').DevHost} */
let dev;
/** A Chromium whose NSS database trusts the dev CA. @type {import('playwright-core').Browser} */
let trusting;
/** The same Chromium with an NSS database without it. @type {import('playwright-core').Browser} */
let plain;

/**
 * Starts `zaffre dev --https` and waits for the sign-in link it prints.
 * @param {string} appDir @param {{fresh: boolean}} o `fresh`: a new dev database
 */
function startHttpsDev(appDir, o) {
  const args = [appDir, '--https', ...(o.fresh ? ['--fresh'] : []), '--listen', '127.0.0.1:0', '--data-dir', path.join(work, 'data')];
  return startDev(args, { cwd: work, env: { ZAFFRE_DEV_CA_DIR: caDir } });
}

/**
 * A HOME for Chromium with a fresh NSS database (empty password), optionally trusting `caFile`
 * as a CA for web sites — what `zaffre dev` tells a developer to run, aimed at a throwaway HOME.
 * @param {string} name @param {string} [caFile]
 */
async function browserHome(name, caFile) {
  if (!existsSync(CERTUTIL)) {
    throw new Error(`certutil not found at ${CERTUTIL}: install Debian's libnss3-tools (cargo xtask test does)`);
  }
  const home = path.join(work, name);
  const db = `sql:${path.join(home, '.pki', 'nssdb')}`;
  await mkdir(path.join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync(CERTUTIL, ['-d', db, '-N', '--empty-password'], { stdio: 'pipe' });
  if (caFile) execFileSync(CERTUTIL, ['-d', db, '-A', '-t', 'C,,', '-n', 'zaffre-dev', '-i', caFile], { stdio: 'pipe' });
  const listed = execFileSync(CERTUTIL, ['-d', db, '-L'], { encoding: 'utf8' });
  assert.equal(/zaffre-dev\s+C,,/.test(listed), Boolean(caFile), `the NSS database in ${name}:\n${listed}`);
  return home;
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'zaffre-dev-https-'));
  caDir = path.join(work, 'dev-ca');
  execFileSync(BIN, ['app', 'new', 'Ticket helper'], { cwd: work, stdio: 'pipe' });
  dev = await startHttpsDev(path.join(work, 'ticket-helper'), { fresh: true });
  const caFile = path.join(caDir, 'ca.pem');
  trusting = await launchBrowser({ env: { HOME: await browserHome('home-trusting', caFile) } });
  plain = await launchBrowser({ env: { HOME: await browserHome('home-plain') } });
});

after(async () => {
  await trusting?.close();
  await plain?.close();
  await dev?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('zaffre dev --https made a CA under ZAFFRE_DEV_CA_DIR and prints https links and how to trust it', async () => {
  assert.match(dev.link, /^https:\/\/localhost:\d+\/auth\/dev-link\?token=/);
  const pem = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
  assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
  assert.equal((await stat(path.join(caDir, 'ca-key.pem'))).mode & 0o777, 0o600, 'the CA key is private');
  assert.match(dev.output(), /Created a local certificate authority in /);
  assert.ok(dev.output().includes(`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n zaffre-dev -i ${path.join(caDir, 'ca.pem')}`),
    'the CLI prints the certutil line this test runs');
});

/**
 * Signs in through the CLI's link and waits for the scaffold's iframe from its https origin to
 * show the ticket's subject.
 * @param {import('playwright-core').Page} page
 */
async function openTicketWithApp(page) {
  await page.goto(dev.link);
  await page.locator('#shell:not([hidden])').waitFor();
  const ticketPath = new URL(page.url()).pathname;
  assert.match(ticketPath, /^\/tickets\/\d+$/, 'the link opens at a ticket');
  assert.equal(new URL(page.url()).origin, dev.base);
  const status = await page.evaluate(() => fetch('/api/zaffre/dev').then((r) => r.json()));
  assert.equal(status.https, true, 'the dev status says https');
  const app = status.apps.find((/** @type {any} */ a) => a.name === 'Ticket helper');
  assert.ok(app, `the dev status lists the scaffold: ${JSON.stringify(status)}`);
  const ticket = await page.evaluate((p) => fetch(`/api/v2${p}.json`).then((r) => r.json()), ticketPath);
  const appOrigin = `https://app-${app.app_id}.localhost:${new URL(dev.base).port}`;
  const frame = /** @type {import('playwright-core').Frame} */ (await waitFor(
    () => page.frames().find((f) => f.url().startsWith(`${appOrigin}/`)),
    { message: `an iframe from ${appOrigin}`, timeoutMs: 15_000 }));
  await waitFor(async () => (await frame.locator('#subject').textContent()) === ticket.ticket.subject,
    { message: 'the app shows the ticket subject it read through the SDK', timeoutMs: 15_000 });
  return { frame, appOrigin, app };
}

test('a Chromium trusting the dev CA signs in over https and the scaffold app registers in its https origin', { timeout: 120_000 }, async () => {
  const { page, context, errors } = await newPage(trusting, { width: 1280, height: 800 });
  /** @type {string[]} */
  const consoleNoise = [];
  page.on('console', (msg) => {
    if (/mixed content|certificate|ERR_CERT|ERR_SSL|insecure/i.test(msg.text())) consoleNoise.push(`${msg.type()}: ${msg.text()}`);
  });
  /** @type {string[]} */
  const failed = [];
  context.on('requestfailed', (req) => failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  /** @type {string[]} */
  const urls = [];
  context.on('request', (req) => urls.push(req.url()));
  /** TLS details of documents, by URL. @type {Map<string, {issuer?: string, protocol?: string, subjectName?: string} | null>} */
  const tls = new Map();
  context.on('response', async (res) => {
    if (res.request().resourceType() === 'document') tls.set(res.url(), await res.securityDetails().catch(() => null));
  });

  // The one-time link signs in and opens the ticket; the app's iframe, in its own https origin
  // on the dev port, registers and shows the subject it read.
  const { frame, appOrigin, app } = await openTicketWithApp(page);
  assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');
  assert.equal(await frame.locator('#greeting').textContent(), 'Hello', 'the app read its settings (default greeting)');
  assert.deepEqual(await frame.evaluate(() => [location.origin, window.isSecureContext]), [appOrigin, true]);

  // Both documents came over TLS with the leaf the dev CA signed.
  const hostTls = tls.get(page.url()) ?? [...tls].find(([u]) => u.startsWith(`${dev.base}/`))?.[1];
  assert.equal(hostTls?.issuer, CA_NAME, `the workspace's certificate is the dev CA's: ${JSON.stringify(hostTls)}`);
  const appTls = [...tls].find(([u]) => u.startsWith(`${appOrigin}/`))?.[1];
  assert.equal(appTls?.issuer, CA_NAME, `the app origin's certificate is the dev CA's: ${JSON.stringify(appTls)}`);
  assert.match(appTls?.protocol ?? '', /^TLS 1\.[23]$/);

  await screenshot(page, 'dev-https');

  // An app origin the start certificate does not name (an app installed later): Chromium refuses
  // a `*.localhost` wildcard, so zaffre must present a certificate naming it exactly.
  const later = `https://app-${Number(app.app_id) + 1000}.localhost:${new URL(dev.base).port}`;
  const other = await context.newPage();
  const reply = await other.goto(`${later}/`);
  assert.ok(reply, `${later} answered`);
  assert.equal((await reply.securityDetails())?.subjectName, new URL(later).hostname, 'a certificate of its own');
  assert.equal((await reply.securityDetails())?.issuer, CA_NAME);
  await other.close();

  // Nothing plain-http, nothing refused, no certificate or mixed-content complaint.
  assert.deepEqual(urls.filter((u) => !/^(https:|data:|blob:|about:)/.test(u)), [], 'every request the page and the app made is https');
  assert.deepEqual(failed, [], 'no request failed');
  assert.deepEqual(consoleNoise, [], 'no certificate or mixed-content message');
  assert.deepEqual(errors, []);
  await context.close();
});

test('control: a Chromium without the dev CA in its NSS database refuses the host (ERR_CERT_AUTHORITY_INVALID)', async () => {
  const { page, context } = await newPage(plain);
  await assert.rejects(page.goto(`${dev.base}/login`), /net::ERR_CERT_AUTHORITY_INVALID/);
  await context.close();
});

test('after a restart the CA is reused: the new leaf chains to the CA Chromium already trusts', { timeout: 120_000 }, async () => {
  const caBefore = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
  await dev.stop();
  dev = await startHttpsDev(path.join(work, 'ticket-helper'), { fresh: false });
  assert.doesNotMatch(dev.output(), /Created a local certificate authority/);
  assert.equal(await readFile(path.join(caDir, 'ca.pem'), 'utf8'), caBefore, 'ca.pem is unchanged');
  const { page, context, errors } = await newPage(trusting);
  /** @type {string[]} */
  const failed = [];
  context.on('requestfailed', (req) => failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
  const { frame, appOrigin } = await openTicketWithApp(page);
  assert.equal(await frame.evaluate(() => location.origin), appOrigin);
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, []);
  await context.close();
});
