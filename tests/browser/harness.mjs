// Shared set-up for the browser tests: starts a real zaffre server with demo data in a fresh data
// directory, launches Debian's Chromium through playwright-core, and offers login, REST and
// screenshot helpers. Every test file calls startServer() itself, so files stay independent.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'correct-horse-battery-staple-42';
const CHROMIUM = process.env.ZAFFRE_CHROMIUM ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * @typedef {{url: string, stop: () => Promise<void>, api: (method: string, p: string, body?: unknown) => Promise<any>,
 *   apiRaw: (method: string, p: string, body?: unknown) => Promise<Response>}} Server
 */

/**
 * Starts `zaffre serve --demo` on a free port and waits for its "listening on" line.
 * @param {{config?: string}} [options] `config`: TOML text for a configuration file (ZAFFRE_CONFIG)
 * @returns {Promise<Server>}
 */
export async function startServer(options = {}) {
  const bin = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');
  if (!existsSync(bin)) {
    throw new Error(`zaffre binary not found at ${bin}: build it (cargo build) or set ZAFFRE_BIN`);
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'zaffre-browser-'));
  /** @type {Record<string, string>} */
  const extraEnv = {};
  if (options.config !== undefined) {
    extraEnv.ZAFFRE_CONFIG = path.join(dataDir, 'zaffre.toml');
    await writeFile(extraEnv.ZAFFRE_CONFIG, options.config);
  }
  const child = spawn(bin, ['serve', '--demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: ROOT,
    env: {
      ...process.env,
      ZAFFRE_ADMIN_EMAIL: ADMIN_EMAIL,
      ZAFFRE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ZAFFRE_RATE_LIMIT_PER_MINUTE: '0',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-4000); });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`zaffre did not start within 30s.\nstdout: ${out}\nstderr: ${stderr}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\w.:\-[\]]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`zaffre exited with ${code} before listening.\nstderr: ${stderr}`)); });
  });
  child.stdout.resume();
  const auth = `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}`;
  /** @param {string} method @param {string} p @param {unknown} [body] */
  const apiRaw = (method, p, body) => fetch(url + p, {
    method,
    headers: { Authorization: auth, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  /** @param {string} method @param {string} p @param {unknown} [body] */
  const api = async (method, p, body) => {
    const res = await apiRaw(method, p, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} answered ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    api,
    apiRaw,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => {
          const t = setTimeout(() => { child.kill('SIGKILL'); resolve(undefined); }, 5000);
          child.once('exit', () => { clearTimeout(t); resolve(undefined); });
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Launches headless Chromium; fails with a clear message when it is not installed.
 * @param {{env?: Record<string, string>}} [options] `env`: variables added to the browser's
 *   environment (e.g. a HOME whose .pki/nssdb trusts a test CA)
 */
export async function launchBrowser(options = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser context and page at 1280×800 that records console errors and page errors.
 * @param {import('playwright-core').Browser} browser
 * @param {{width?: number, height?: number}} [size]
 */
export async function newPage(browser, size = {}) {
  const context = await browser.newContext({ viewport: { width: size.width ?? 1280, height: size.height ?? 800 } });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // The signed-out session probe answers 401 by design; Chromium logs every failed load.
    if (msg.type() === 'error' && !/status of 401/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

/**
 * Signs in through the login form and waits for the workspace shell.
 * @param {import('playwright-core').Page} page
 * @param {string} baseUrl
 * @param {string} [next] a workspace path to land on
 */
export async function login(page, baseUrl, next) {
  await page.goto(baseUrl + (next ?? '/login'));
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#shell:not([hidden])').waitFor();
}

/**
 * Saves a screenshot under docs/screenshots/ (written to a temp name first so a failed run never
 * leaves a half-written image).
 * @param {import('playwright-core').Page} page
 * @param {string} name file name without extension
 */
export async function screenshot(page, name) {
  const dir = path.join(ROOT, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${name}.tmp.png`);
  await page.screenshot({ path: tmp });
  await rename(tmp, path.join(dir, `${name}.png`));
}

/**
 * Polls until `check` returns a truthy value, or fails after `timeoutMs` with `message`.
 * @template T
 * @param {() => Promise<T> | T} check
 * @param {{timeoutMs?: number, intervalMs?: number, message?: string}} [o]
 * @returns {Promise<T>}
 */
export async function waitFor(check, o = {}) {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  /** @type {unknown} */
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
  throw new Error(`${o.message ?? 'condition not met'} within ${o.timeoutMs ?? 10_000} ms${last ? `: ${last}` : ''}`);
}

/**
 * Finds a ticket field of the given custom type through the API.
 * @param {Server} server
 * @param {string} type
 */
export async function customField(server, type) {
  const { ticket_fields: fields } = await server.api('GET', '/api/v2/ticket_fields.json');
  const f = fields.find((/** @type {any} */ x) => x.type === type && x.active !== false);
  if (!f) throw new Error(`the demo data has no active ${type} custom field`);
  return f;
}

/**
 * An unsolved demo ticket (open/new/pending) to work on.
 * @param {Server} server
 */
export async function someOpenTicket(server) {
  const { tickets } = await server.api('GET', '/api/v2/tickets.json?sort_by=id&sort_order=asc&per_page=100');
  const t = tickets.find((/** @type {any} */ x) => x.status === 'open') ?? tickets.find((/** @type {any} */ x) => ['new', 'pending'].includes(x.status));
  if (!t) throw new Error('the demo data has no unsolved ticket');
  return t;
}
