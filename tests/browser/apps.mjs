// Helpers for the app tests: write an app with `zaffre app new` (optionally overlaying fixture
// files from tests/browser/apps/<name>/), package it with `zaffre app package`, and install it
// through the REST API as the admin (HTTP Basic), as an operator would.
import { execFileSync } from 'node:child_process';
import { mkdtemp, cp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.ZAFFRE_BIN ?? 'target/debug/zaffre');

/**
 * Writes a new app folder with the scaffold, then copies `fixture` (a folder under
 * tests/browser/apps/, or several, each over the one before) over it.
 * @param {string} name the app's name
 * @param {string|string[]} [fixture]
 * @returns {Promise<string>} the app folder
 */
export async function writeApp(name, fixture) {
  const dir = await mkdtemp(path.join(tmpdir(), 'zaffre-app-'));
  execFileSync(BIN, ['app', 'new', name], { cwd: dir, stdio: 'pipe' });
  const appDir = path.join(dir, name.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  for (const f of fixture === undefined ? [] : [fixture].flat()) {
    await cp(path.join(ROOT, 'tests/browser/apps', f), appDir, { recursive: true });
  }
  return appDir;
}

/**
 * Packages and installs an app folder; returns the app and installation ids.
 * @param {import('./harness.mjs').Server} server
 * @param {string} appDir
 * @param {Record<string, unknown>} [settings]
 */
export async function installApp(server, appDir, settings = {}) {
  const zip = path.join(path.dirname(appDir), 'app.zip');
  execFileSync(BIN, ['app', 'package', appDir, '--output', zip], { stdio: 'pipe' });
  const form = new FormData();
  form.append('uploaded_data', new Blob([await readFile(zip)], { type: 'application/zip' }), 'app.zip');
  const auth = `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}`;
  const res = await fetch(`${server.url}/api/v2/apps/uploads.json`, { method: 'POST', headers: { Authorization: auth }, body: form });
  const upload = await res.json();
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${JSON.stringify(upload)}`);
  const manifest = JSON.parse(await readFile(path.join(appDir, 'manifest.json'), 'utf8'));
  const job = await server.api('POST', '/api/v2/apps.json', { name: manifest.name, short_description: 'test app', upload_id: upload.id });
  const status = await server.api('GET', `/api/v2/apps/job_statuses/${job.job_id}.json`);
  if (status.status !== 'completed') throw new Error(`app creation: ${JSON.stringify(status)}`);
  const inst = await server.api('POST', '/api/v2/apps/installations.json', { app_id: status.app_id, settings: { name: manifest.name, ...settings } });
  await rm(zip, { force: true });
  return { appId: /** @type {number} */ (status.app_id), installationId: /** @type {number} */ (inst.id) };
}

/**
 * Zendesk's official SDK (npm `zendesk_app_framework_sdk`), bundled and minified with esbuild the
 * way its CDN build is made, so tests and the SDK benchmark can serve it in place of zaffre's.
 * @returns {Promise<string>}
 */
export async function officialSdkBundle() {
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild');
  const out = await esbuild.build({
    entryPoints: [require.resolve('zendesk_app_framework_sdk/lib/index.js')],
    bundle: true, format: 'iife', globalName: 'ZAFClient', write: false, minify: true, platform: 'browser',
  });
  return out.outputFiles[0].text;
}
