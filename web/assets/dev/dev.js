// Development mode (`zaffre dev`) in the workspace: asks the server whether it runs in dev mode
// and, only then, loads the dev banner (mode, per-app validation errors), the event console, and
// follows /api/zaffre/dev/events to reload an app's iframes when its files change. Nothing here
// runs, and none of the dev UI is even downloaded, under `zaffre serve`.
import { request, ApiError } from '../api.js';
import { h } from '../dom.js';
import { reloadApp } from '../host/bridge.js';

/**
 * What GET /api/zaffre/dev answers (docs/developing-apps.md).
 * @typedef {{level: string, key: string, message: string, file?: string|null}} Finding
 * @typedef {{app_id: number, installation_id?: number|null, name: string, path?: string, status: string,
 *   version?: number, findings: Finding[]}} DevApp
 * @typedef {{dev: boolean, loopback_upstreams?: boolean, https?: boolean, apps: DevApp[]}} DevStatus
 * @typedef {{update: (status: DevStatus) => void, appInvalid: (appId: number, findings: Finding[]) => void,
 *   appValid: (appId: number) => void, appReloaded: (appId: number, version: number|null, changed: string[]) => void,
 *   destroy: () => void}} BannerHandle
 */

/** The running dev UI, if any. @type {{banner: BannerHandle, stop: () => void}|null} */
let running = null;
let generation = 0;

/** Asks the server for its dev status; null when it is not in dev mode. @returns {Promise<DevStatus|null>} */
async function devStatus() {
  try {
    const status = await request('GET', '/api/zaffre/dev', undefined, { authRedirect: false });
    return status && status.dev === true ? /** @type {DevStatus} */ (status) : null;
  } catch (err) {
    if (err instanceof ApiError && [401, 403, 404].includes(err.status)) return null;
    console.error('dev status', err);
    return null;
  }
}

/** Starts the dev UI after a sign-in, when the server is `zaffre dev`. */
export async function startDev() {
  const mine = ++generation;
  const status = await devStatus();
  if (!status || mine !== generation || running) return;
  if (!document.querySelector('link[data-dev-css]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/assets/dev/dev.css', 'data-dev-css': true }));
  }
  const [{ createBanner }, { createConsole }] = await Promise.all([import('./banner.js'), import('./console.js')]);
  if (mine !== generation) return;
  document.body.classList.add('dev-mode');
  const devConsole = createConsole();
  const banner = createBanner(status, devConsole);
  const stopEvents = followEvents(banner);
  running = {
    banner,
    stop: () => { stopEvents(); banner.destroy(); devConsole.destroy(); document.body.classList.remove('dev-mode'); },
  };
}

/** Removes the dev UI (sign-out). */
export function stopDev() {
  generation += 1;
  running?.stop();
  running = null;
}

/**
 * Follows the dev event stream: reloads apps, updates the banner; after a reconnect, re-reads the
 * status (events may have been missed). EventSource retries by itself; after it gives up, we
 * restart it with a growing delay.
 * @param {BannerHandle} banner @returns {() => void} stop
 */
function followEvents(banner) {
  /** @type {EventSource|null} */
  let source = null;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let retry;
  let backoff = 1000;
  let lost = false;
  let stopped = false;
  /** @param {Event} ev @returns {any} */
  const data = (ev) => {
    try { return JSON.parse(/** @type {MessageEvent} */ (ev).data); } catch { return null; }
  };
  const open = () => {
    source = new EventSource('/api/zaffre/dev/events', { withCredentials: true });
    const resync = async () => {
      const status = await devStatus();
      if (status && !stopped) banner.update(status);
    };
    source.onopen = () => {
      backoff = 1000;
      if (!lost) return;
      lost = false;
      void resync();
    };
    // The server dropped events for us (we fell behind): start again from the status.
    source.addEventListener('resync', () => { void resync(); });
    source.addEventListener('app.reloaded', (ev) => {
      const d = data(ev);
      if (!d || typeof d.app_id !== 'number') return;
      void reloadApp(d.app_id).catch((err) => console.error('reload', err));
      banner.appReloaded(d.app_id, typeof d.version === 'number' ? d.version : null,
        Array.isArray(d.changed) ? d.changed.filter((/** @type {unknown} */ c) => typeof c === 'string') : []);
    });
    source.addEventListener('app.invalid', (ev) => {
      const d = data(ev);
      if (d && typeof d.app_id === 'number' && Array.isArray(d.findings)) banner.appInvalid(d.app_id, d.findings);
    });
    source.addEventListener('app.valid', (ev) => {
      const d = data(ev);
      if (d && typeof d.app_id === 'number') banner.appValid(d.app_id);
    });
    source.onerror = () => {
      lost = true;
      if (source?.readyState === EventSource.CLOSED && !stopped) {
        source = null;
        retry = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
    source = null;
  };
}
