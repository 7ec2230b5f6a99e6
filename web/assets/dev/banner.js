// The dev banner: a slim strip above the workspace saying that this is `zaffre dev` (loopback
// upstreams allowed, HTTPS or not), the last live reload, the event console's toggle, and each
// app's validation errors. An error can be dismissed; it returns when the app reports errors again.
import { h, replace } from '../dom.js';

/**
 * @typedef {import('./dev.js').DevStatus} DevStatus
 * @typedef {import('./dev.js').DevApp} DevApp
 * @typedef {import('./dev.js').Finding} Finding
 * @typedef {import('./dev.js').BannerHandle} BannerHandle
 * @typedef {import('./console.js').ConsoleHandle} ConsoleHandle
 */

/** @param {Finding} f */
const findingId = (f) => `${f.key}\n${f.file ?? ''}\n${f.message}`;

/**
 * Builds the banner and puts it above the workspace shell.
 * @param {DevStatus} initial
 * @param {ConsoleHandle} devConsole
 * @returns {BannerHandle}
 */
export function createBanner(initial, devConsole) {
  /** Apps by id: name and current error findings. @type {Map<number, {name: string, errors: Finding[], version: number|null}>} */
  const apps = new Map();
  /** Dismissed errors per app (cleared when the app reports errors again). @type {Map<number, Set<string>>} */
  const dismissed = new Map();
  let https = false;
  let loopback = true;

  const mode = h('span', { class: 'dev-banner-mode' });
  const reloaded = h('span', { class: 'dev-banner-reload', role: 'status' });
  const toggle = h('button', { type: 'button', class: 'dev-banner-toggle', id: 'dev-console-toggle',
    'aria-controls': 'dev-console', 'aria-expanded': 'false', title: 'Event console (Ctrl+`)' }, 'Event console');
  toggle.addEventListener('click', () => devConsole.setOpen(!devConsole.isOpen()));
  devConsole.onOpenChange((open) => toggle.setAttribute('aria-expanded', String(open)));
  toggle.setAttribute('aria-expanded', String(devConsole.isOpen()));
  const errorList = h('ul', { class: 'dev-banner-errors', 'aria-label': 'App validation errors' });
  const strip = h('div', { class: 'dev-banner-strip' },
    h('span', { class: 'dev-badge' }, 'DEV'), mode, reloaded, h('span', { class: 'dev-banner-spacer' }), toggle);
  const root = h('div', { class: 'dev-banner', id: 'dev-banner', role: 'region', 'aria-label': 'Development mode' },
    strip, errorList);
  const shell = document.getElementById('shell');
  if (shell) shell.before(root); else document.body.prepend(root);

  /** @param {number} appId @param {string} [name] */
  const appEntry = (appId, name) => {
    let a = apps.get(appId);
    if (!a) { a = { name: name ?? `App ${appId}`, errors: [], version: null }; apps.set(appId, a); }
    if (name) a.name = name;
    return a;
  };

  function drawMode() {
    const count = apps.size;
    replace(mode, loopback ? 'Development mode — loopback upstreams allowed' : 'Development mode',
      h('span', { class: `dev-pill ${https ? 'dev-pill-on' : ''}` }, https ? 'HTTPS' : 'HTTP (no TLS)'),
      h('span', { class: 'dev-banner-apps' }, `${count} app${count === 1 ? '' : 's'}`));
  }

  function drawErrors() {
    /** @type {HTMLElement[]} */
    const rows = [];
    for (const [appId, a] of apps) {
      const hidden = dismissed.get(appId) ?? new Set();
      for (const f of a.errors) {
        const id = findingId(f);
        if (hidden.has(id)) continue;
        rows.push(h('li', { class: 'dev-error', 'data-app-id': appId, role: 'alert' },
          h('strong', null, a.name), h('span', { class: 'dev-error-msg' }, f.message),
          f.file ? h('code', null, f.file) : null, h('code', { class: 'dev-error-key' }, f.key),
          h('button', { type: 'button', class: 'dev-dismiss', 'aria-label': `Dismiss this error of ${a.name}`, title: 'Dismiss',
            onclick: () => {
              const set = dismissed.get(appId) ?? new Set();
              set.add(id);
              dismissed.set(appId, set);
              drawErrors();
              toggle.focus();
            } }, '×')));
      }
    }
    replace(errorList, ...rows);
    errorList.hidden = rows.length === 0;
  }

  /** @param {DevStatus} status */
  function update(status) {
    https = status.https === true;
    loopback = status.loopback_upstreams !== false;
    apps.clear();
    for (const app of status.apps ?? []) {
      const a = appEntry(app.app_id, app.name);
      a.version = typeof app.version === 'number' ? app.version : null;
      a.errors = app.status === 'invalid' || app.findings?.some((f) => f.level === 'error')
        ? (app.findings ?? []).filter((f) => f.level === 'error') : [];
    }
    drawMode();
    drawErrors();
  }

  update(initial);
  return {
    update,
    appInvalid(appId, findings) {
      const a = appEntry(appId);
      a.errors = findings.filter((f) => f && f.level === 'error' && typeof f.message === 'string');
      dismissed.delete(appId); // a new report brings every error back
      drawErrors();
    },
    appValid(appId) {
      appEntry(appId).errors = [];
      dismissed.delete(appId);
      drawErrors();
    },
    appReloaded(appId, version, changed) {
      const a = appEntry(appId);
      a.version = version;
      a.errors = [];
      dismissed.delete(appId);
      const what = changed.length ? ` (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''})` : '';
      reloaded.textContent = `Reloaded ${a.name}${version !== null ? ` v${version}` : ''}${what} at ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
      drawErrors();
    },
    destroy() { root.remove(); },
  };
}
