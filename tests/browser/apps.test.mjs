// The admin area's Apps section in a real browser: a package built by `zaffre app new` and
// `zaffre app package` is uploaded, a broken one shows its findings, the app is installed with a
// secure and a plain setting, its settings are edited, it is disabled and uninstalled.
// Writes docs/screenshots/admin-apps.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, newPage, login, screenshot, waitFor } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');
const SECRET = 'browser-secret-value-91d2';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {string} */
let work;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  work = await mkdtemp(path.join(tmpdir(), 'zaffre-apps-'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs the zaffre binary and fails with its output when it fails. @param {string[]} args */
function zaffre(args) {
  const r = spawnSync(BIN, args, { cwd: work, encoding: 'utf8' });
  assert.equal(r.status, 0, `zaffre ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Scaffolds an app, gives it a setting of every kind, and packages it.
 * @returns {Promise<string>} the zip's path
 */
async function goodPackage() {
  const dir = path.join(work, 'helper');
  zaffre(['app', 'new', 'Browser Helper', '--dir', dir]);
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.parameters = [
    { name: 'subdomain', type: 'text', required: true },
    { name: 'api_token', type: 'text', secure: true, required: true, scopes: ['header'] },
    { name: 'verbose', type: 'checkbox', default: false },
    { name: 'limit', type: 'number', default: 5 },
    { name: 'home', type: 'url' },
    { name: 'notes', type: 'multiline' },
  ];
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  const zip = path.join(work, 'helper.zip');
  zaffre(['app', 'package', dir, '--output', zip]);
  return zip;
}

/**
 * A zip whose manifest points at a missing file and gives a secure parameter a default: zaffre
 * refuses to package it, so Python's zipfile writes it (or, without Python, a file that is not a
 * zip at all, which is refused too).
 * @returns {Promise<{zip: string, keys: string[]}>}
 */
async function badPackage() {
  const zip = path.join(work, 'broken.zip');
  const manifest = JSON.stringify({
    name: 'Broken', author: { name: 'A', email: 'a@example.com' }, defaultLocale: 'en',
    location: { support: { ticket_sidebar: 'assets/missing.html' } }, frameworkVersion: '2.0',
    parameters: [{ name: 'token', type: 'text', secure: true, default: 'x', scopes: ['header'] }],
  });
  const script = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\nz.writestr("manifest.json", sys.argv[2])\n'
    + 'z.writestr("translations/en.json", \'{"app": {"name": "Broken"}}\')\nz.close()\n';
  const r = spawnSync('python3', ['-c', script, zip, manifest], { encoding: 'utf8' });
  if (r.status === 0) return { zip, keys: ['invalid_location_uri', 'secure_parameter_with_default'] };
  await writeFile(zip, 'this is not a zip file');
  return { zip, keys: ['zip_invalid'] };
}

test('apps: upload with findings, install with secure and plain settings, edit, disable, uninstall', async () => {
  const good = await goodPackage();
  const bad = await badPackage();
  const { page, context, errors } = await newPage(browser, { width: 1280, height: 1180 });
  page.on('dialog', (d) => d.accept());
  await login(page, server.url, '/admin/apps');
  await page.locator('[data-admin-section="apps"] h1', { hasText: 'Apps' }).waitFor();
  await page.locator('#admin-apps').waitFor();

  // Upload the good package: a new app row appears.
  await page.setInputFiles('#app-upload-file', good);
  const appRow = page.locator('tr[data-app-id]', { hasText: 'Browser Helper' });
  await appRow.waitFor();
  assert.match(await page.locator('.app-findings-summary').innerText(), /uploaded as a new app/);

  // Install it: required fields are enforced in the form before anything is sent.
  await appRow.getByRole('button', { name: 'Install' }).click();
  const form = page.locator('form.app-settings-form');
  await form.waitFor();
  assert.equal(await form.getByLabel('Limit').inputValue(), '5', 'defaults are filled');
  assert.equal(await form.getByLabel('Api token').getAttribute('type'), 'password');
  await form.getByRole('button', { name: 'Install' }).click();
  await form.locator('[data-setting="subdomain"] .field-error', { hasText: 'Required' }).waitFor();
  assert.deepEqual((await server.api('GET', '/api/v2/apps/installations.json')).installations, [], 'nothing was sent');
  await form.getByLabel('Subdomain').fill('acme');
  await form.getByLabel('Api token').fill(SECRET);
  await form.getByLabel('Verbose').check();
  await form.getByLabel('Home').fill('https://acme.example.com');
  await form.getByRole('button', { name: 'Install' }).click();
  const instRow = page.locator('tr[data-installation-id]');
  await instRow.waitFor();
  assert.match(await instRow.innerText(), /api_token: set/);
  assert.match(await instRow.innerText(), /enabled/i);
  let [inst] = (await server.api('GET', '/api/v2/apps/installations.json')).installations;
  assert.equal(inst.settings.subdomain, 'acme');
  assert.equal(inst.settings.verbose, true);
  assert.equal(inst.settings.limit, 5);
  assert.equal(inst.settings.api_token, null, 'the secure value is never sent back');
  assert.deepEqual(inst.secure_settings, { api_token: true });

  // A broken package shows every finding with its place, and stores nothing.
  await page.setInputFiles('#app-upload-file', bad.zip);
  await page.locator('.app-findings .finding-error').first().waitFor();
  for (const key of bad.keys) {
    await page.locator(`.app-findings li[data-key="${key}"]`).waitFor();
  }
  assert.match(await page.locator('.app-findings-summary').innerText(), /was not uploaded/);
  assert.equal((await server.api('GET', '/api/v2/apps.json')).apps.length, 1);

  // Edit: the secure field starts empty and says it is set; a plain change keeps the secret.
  await instRow.getByRole('button', { name: 'Edit settings' }).click();
  await form.waitFor();
  const token = form.getByLabel('Api token');
  assert.equal(await token.inputValue(), '', 'a stored secret is never put back in the page');
  assert.equal(await token.getAttribute('placeholder'), 'Set: type to replace');
  assert.equal(await form.getByLabel('Subdomain').inputValue(), 'acme');
  // Toasts are transient; the screenshot shows the page itself.
  await page.evaluate(() => { for (const t of document.querySelectorAll('.toast')) t.remove(); });
  await screenshot(page, 'admin-apps');
  await form.getByLabel('Subdomain').fill('beta');
  await form.getByLabel('Notes').fill('Line one\nLine two');
  await form.getByRole('button', { name: 'Save settings' }).click();
  await form.waitFor({ state: 'detached' });
  inst = (await server.api('GET', `/api/v2/apps/installations/${inst.id}.json`));
  assert.equal(inst.settings.subdomain, 'beta');
  assert.equal(inst.settings.notes, 'Line one\nLine two');
  assert.deepEqual(inst.secure_settings, { api_token: true }, 'the secret is kept');

  // Disable, then uninstall.
  await instRow.getByRole('button', { name: 'Disable' }).click();
  await waitFor(async () => /disabled/i.test(await instRow.innerText()), { message: 'the installation shows as disabled' });
  assert.equal((await server.api('GET', `/api/v2/apps/installations/${inst.id}.json`)).enabled, false);
  await instRow.getByRole('button', { name: 'Uninstall' }).click();
  await page.locator('#no-installations').waitFor();
  assert.deepEqual((await server.api('GET', '/api/v2/apps/installations.json')).installations, []);

  // The secret never reached the page.
  assert.ok(!(await page.content()).includes(SECRET));
  assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
  await context.close();
});
