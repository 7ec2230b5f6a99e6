// The host side of the ZAF protocol: creates an iframe per installed app in each app location
// of the page, answers the handshake, and routes every message by the window that sent it.
//
// Trust rules (docs/apps-hosting.md, the protocol note's security checklist): a message counts
// only if its event.source is an iframe zaffre created AND event.origin is that app's origin AND
// its appGuid is that iframe's guid. An iframe may address only instances of its own
// installation. Replies go to exactly one window with its exact origin, as JSON strings.
import { get as apiGet, ApiError } from '../api.js';
import { session } from '../session.js';
import { loadDirectory } from '../directory.js';
import { h } from '../dom.js';
import { setModal, setTopBarPopover, setNavPane, appBox } from '../app-locations.js';
import { getPath, setPath, invokeAction, zafEventsFor, ZafError } from './support-api.js';
import { forwardRequest } from './request.js';

/** How long a ticket.save hook may take before the save is aborted (Zendesk's documented limit). */
export const HOOK_TIMEOUT_MS = 30_000;

/**
 * @typedef {{product: string, location: string, url: string|null, auto_load?: boolean,
 *   auto_hide?: boolean, flexible?: boolean|null, size?: {width?: string|null, height?: string|null}|null}} ManifestLocation
 * @typedef {{id: number, app_id: number, name: string, app_name?: string, version?: string|null,
 *   assets_version?: string, locations: ManifestLocation[], settings: Record<string, unknown>}} Installation
 * @typedef {{guid: string, installation: Installation, location: string, origin: string,
 *   frame: HTMLIFrameElement, win: Window|null, registered: boolean, context: Record<string, any>,
 *   subs: Map<string, number>, hooks: Map<string, (error: any) => void>, wrapper: HTMLElement,
 *   onDestroy: Array<() => void>, flexible?: boolean}} Instance
 */

/** @type {Map<Window, Instance>} */
const byWindow = new Map();
/** @type {Map<string, Instance>} */
const byGuid = new Map();
/** @type {Promise<{installations: Installation[], template: string}>|null} */
let installedPromise = null;

/** Installed apps and the app origin template, loaded once per session. */
function installed() {
  if (!installedPromise) {
    installedPromise = Promise.all([apiGet('/api/zaffre/apps/installed.json'), apiGet('/api/zaffre/apps/origins.json'),
      loadDirectory()])
      .then(([list, origins]) => ({ installations: list.installations ?? [], template: origins.app_origin_template }))
      .catch((err) => {
        installedPromise = null;
        if (!(err instanceof ApiError && (err.status === 401 || err.status === 403))) console.error('apps', err);
        return { installations: [], template: '' };
      });
  }
  return installedPromise;
}

/** Forget the installed list (a new session, or the admin changed apps). */
export function resetInstalled() {
  installedPromise = null;
}

/** @param {Instance} inst @param {Record<string, unknown>} msg */
function post(inst, msg) {
  inst.win?.postMessage(JSON.stringify(msg), inst.origin);
  note('out', inst, msg);
}

// --- traffic observer (the dev event console, web/assets/dev/) --------------------------------

/**
 * One message seen by the host: `in` from an app, `out` to an app, `host` for what the host
 * decided (a ticket.save outcome, a hook that timed out, an app reloaded).
 * @typedef {{dir: 'in'|'out'|'host', at: number, guid: string|null, appId: number|null,
 *   installationId: number|null, appName: string, location: string, message: Record<string, any>}} TrafficRecord
 * @typedef {(record: TrafficRecord) => void} TrafficListener
 */

/** @type {Set<TrafficListener>} */
const trafficListeners = new Set();

/**
 * Subscribes to every message between the host and its apps. Listeners run synchronously and
 * must copy what they keep (messages are live objects).
 * @param {TrafficListener} listener @returns {() => void} unsubscribe
 */
export function onTraffic(listener) {
  trafficListeners.add(listener);
  return () => { trafficListeners.delete(listener); };
}

/** @param {TrafficRecord['dir']} dir @param {Instance|null} inst @param {Record<string, any>} message */
function note(dir, inst, message) {
  if (trafficListeners.size === 0) return;
  /** @type {TrafficRecord} */
  const record = { dir, at: Date.now(), guid: inst?.guid ?? null, appId: inst?.installation.app_id ?? null,
    installationId: inst?.installation.id ?? null, appName: inst?.installation.name ?? '', location: inst?.location ?? '', message };
  for (const l of [...trafficListeners]) {
    try { l(record); } catch (err) { console.error(err); }
  }
}

/** @param {string} a @param {string} b */
const subKey = (a, b) => `${a}\n${b}`;

/**
 * Delivers `zaf.<name>` about instance `about` to every window subscribed to it; the app's own
 * iframe gets it without instanceGuid, others (that used client.instance(guid)) with it.
 * @param {Instance} about @param {string} name @param {unknown} [message] @param {boolean} [needsReply]
 * @returns {Instance[]} the windows it went to
 */
function emit(about, name, message, needsReply = false) {
  /** @type {Instance[]} */
  const sent = [];
  for (const inst of byGuid.values()) {
    if (!inst.registered || inst.installation.id !== about.installation.id) continue;
    if ((inst.subs.get(subKey(about.guid, name)) ?? 0) <= 0) continue;
    /** @type {Record<string, unknown>} */
    const msg = { key: `zaf.${name}`, message };
    if (inst !== about) msg.instanceGuid = about.guid;
    if (needsReply) msg.needsReply = true;
    post(inst, msg);
    sent.push(inst);
  }
  return sent;
}

/** @param {Instance} inst */
function metadata(inst) {
  const i = inst.installation;
  return { appId: i.app_id, installationId: i.id, name: i.name, version: i.version ?? null,
    settings: { ...i.settings, title: i.settings.title ?? i.name }, plan: { name: 'zaffre' } };
}

/** Contexts of every live instance of an installation, by guid. @param {number} installationId */
function instancesOf(installationId) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const inst of byGuid.values()) if (inst.installation.id === installationId) out[inst.guid] = inst.context;
  return out;
}

window.addEventListener('message', (ev) => {
  const inst = ev.source ? byWindow.get(/** @type {Window} */ (ev.source)) : undefined;
  if (!inst || ev.origin !== inst.origin) return; // not a frame we made, or it navigated away
  let data = ev.data;
  if (typeof data === 'string') {
    try { data = JSON.parse(data); } catch { return; }
  }
  if (!data || typeof data !== 'object' || data.appGuid !== inst.guid) return;
  note('in', inst, data);
  if (typeof data.request === 'string') { void rpc(inst, data); return; }
  const key = typeof data.key === 'string' ? data.key : '';
  if (key === 'iframe.handshake') {
    // Answered once: a second app.registered would make Zendesk's SDK re-send its queue.
    if (inst.registered) return;
    inst.registered = true;
    post(inst, { key: 'zaf.app.registered', message: { metadata: metadata(inst), context: inst.context } });
    for (const other of byGuid.values()) {
      if (other !== inst && other.installation.id === inst.installation.id) {
        emitTo(other, 'instance.registered', inst.context);
      }
    }
    if (inst.location === 'background' || !inst.frame.closest('[hidden]')) {
      // Visible at once (a sidebar, or a pane opened before its app had loaded: autoLoad false);
      // not an autoHide box, a collapsed one or a hidden apps panel. Background apps are
      // always active.
      if (inst.location === 'top_bar' || inst.location === 'nav_bar') emitLater(inst, 'pane.activated');
      emitLater(inst, 'app.activated');
    }
    return;
  }
  const on = /^iframe\.(on|off):(.+)$/.exec(key);
  if (on) {
    const target = typeof data.instanceGuid === 'string' ? data.instanceGuid : inst.guid;
    const count = Number(data.message?.subscriberCount);
    if (!sameInstallation(inst, target) || !Number.isFinite(count)) return;
    inst.subs.set(subKey(target, on[2]), Math.max(0, count));
    return;
  }
  if (key.startsWith('iframe.trigger:')) {
    const target = byGuid.get(typeof data.instanceGuid === 'string' ? data.instanceGuid : inst.guid);
    if (target && target.installation.id === inst.installation.id) emit(target, key.slice('iframe.trigger:'.length), data.message);
    return;
  }
  if (key.startsWith('iframe.reply:')) {
    const settle = inst.hooks.get(key.slice('iframe.reply:'.length));
    settle?.('error' in data ? (data.error ?? { msg: undefined }) : null);
    return;
  }
  const req = /^request:(\d+)$/.exec(key);
  // The installation is the sending iframe's, never one named in the options.
  if (req) void forwardRequest({ installationId: inst.installation.id, post: (m) => post(inst, m), onDestroy: inst.onDestroy }, req[1], data.message);
  // session.live, __track__ and free-form messages need nothing.
});

/** @param {Instance} inst @param {string} guid */
function sameInstallation(inst, guid) {
  const target = byGuid.get(guid);
  return Boolean(target && target.installation.id === inst.installation.id);
}

/** An event to one instance's own listeners. @param {Instance} inst @param {string} name @param {unknown} [message] */
function emitTo(inst, name, message) {
  emit(inst, name, message);
}

/** After the SDK processed app.registered (its subscriptions arrive right after). @param {Instance} inst @param {string} name */
function emitLater(inst, name) {
  setTimeout(() => emit(inst, name), 50);
}

// `window.resize` (ZAF core event): the workspace window's new size, debounced like Zendesk's.
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const inst of [...byGuid.values()]) emit(inst, 'window.resize', { width: innerWidth, height: innerHeight });
  }, 100);
});

/** Errors in the shape the SDK turns into an Error. @param {unknown} err @param {string} [path] */
function errorShape(err, path) {
  const e = /** @type {any} */ (err);
  return { name: e instanceof ZafError ? e.name : (e?.name && e.name !== 'ApiError' ? String(e.name) : 'Error'),
    message: e instanceof Error ? e.message : String(e), ...(path ? { path } : {}) };
}

/** Answers one get/set/invoke; always replies. @param {Instance} inst @param {any} data */
async function rpc(inst, data) {
  const id = data.id;
  if (typeof id !== 'number' && typeof id !== 'string') return;
  const reply = (/** @type {Record<string, unknown>} */ body) => post(inst, { id, ...body });
  const target = byGuid.get(typeof data.instanceGuid === 'string' ? data.instanceGuid : inst.guid);
  if (!target || target.installation.id !== inst.installation.id) {
    reply({ error: { name: 'InvalidInstance', message: 'No such instance of this app' } });
    return;
  }
  const t = { guid: target.guid, location: target.location, installationId: target.installation.id, context: target.context };
  const ops = hostOps(inst);
  /** @type {Record<string, any>} */
  const result = {};
  /** @type {Record<string, any>} */
  const errors = {};
  const params = data.params;
  try {
    if (data.request === 'get') {
      if (!Array.isArray(params) || params.some((p) => typeof p !== 'string')) throw new Error('get expects an array of paths');
      for (const path of params) {
        try { result[path] = await getPath(path, t, ops); } catch (err) { errors[path] = errorShape(err, path); }
      }
    } else if (data.request === 'set' || data.request === 'invoke') {
      if (!params || typeof params !== 'object' || Array.isArray(params)) throw new Error(`${data.request} expects an object`);
      for (const [name, value] of Object.entries(params)) {
        try {
          if (data.request === 'set') result[name] = await setPath(name, value, t);
          else {
            if (!Array.isArray(value)) throw new Error('arguments must be an array');
            result[name] = await invokeAction(name, value, t, ops);
          }
        } catch (err) { errors[name] = errorShape(err, name); }
      }
    } else {
      throw new Error(`unknown request "${data.request}"`);
    }
  } catch (err) {
    reply({ error: errorShape(err) });
    return;
  }
  reply({ result: { ...result, errors } });
}

/** @param {string|undefined|null} v */
function cssLength(v) {
  if (v == null) return null;
  const s = String(v).trim();
  return /^\d+(\.\d+)?(px|%|em|rem|vh|vw)?$/.test(s) ? (/\d$/.test(s) ? `${s}px` : s) : null;
}

/** What the catalogue may ask of the host, for the instance that asked. @param {Instance} caller @returns {import('./support-api.js').HostOps} */
function hostOps(caller) {
  return {
    instances: instancesOf,
    createInstance: (t, options) => createModal(caller, byGuid.get(t.guid) ?? caller, options),
    destroy: (guid) => { const inst = byGuid.get(guid); if (inst) destroy(inst); },
    resize: (guid, size) => {
      const inst = byGuid.get(guid);
      if (!inst) return;
      const height = cssLength(size.height);
      const width = cssLength(size.width);
      if (height) inst.frame.style.height = height;
      // A flexible sidebar app follows the panel's width; only its height is the app's to choose.
      if (width && !inst.flexible) inst.frame.style.width = width;
    },
    popover: (guid, how) => {
      const inst = byGuid.get(guid);
      if (inst?.location !== 'top_bar') throw new ZafError('Error', 'popover is for top_bar apps');
      showPane(inst, how === 'hide' ? false : how === 'toggle' ? inst.wrapper.hidden : true);
    },
    preloadPane: () => {},
  };
}

/** Opens a modal instance for `parent` (`instances.create`). @param {Instance} caller @param {Instance} parent @param {any} options */
function createModal(caller, parent, options) {
  const o = options && typeof options === 'object' ? options : {};
  if (o.location !== 'modal') throw new ZafError('Error', 'instances.create supports location "modal"');
  const url = resolveAppUrl(parent, typeof o.url === 'string' ? o.url : '');
  if (!url) throw new ZafError('Error', 'The modal URL must be a file of this app');
  const layer = setModal(true);
  const box = h('div', { class: 'app-modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': parent.installation.name });
  const size = o.size && typeof o.size === 'object' ? o.size : {};
  box.style.width = cssLength(size.width) ?? '480px';
  layer.append(box);
  const inst = createInstance(parent.installation, 'modal', url, box, { ...parent.context, location: 'modal' });
  inst.frame.style.height = cssLength(size.height) ?? '320px';
  inst.frame.style.width = '100%';
  const closeOnHide = new MutationObserver(() => { if (layer.hidden) destroy(inst); });
  closeOnHide.observe(layer, { attributes: true, attributeFilter: ['hidden'] });
  inst.onDestroy.push(() => {
    closeOnHide.disconnect();
    box.remove();
    if (!layer.querySelector('.app-modal')) setModal(false);
  });
  void caller;
  for (const other of byGuid.values()) {
    if (other !== inst && other.installation.id === inst.installation.id) emitTo(other, 'instance.created', inst.context);
  }
  return inst.context;
}

/**
 * An app-relative URL (`assets/x.html`) or one on the app's own origin; null otherwise. It is put
 * under the app's version prefix (`/v/<assets_version>/assets/…`, which the server lets browsers
 * cache for good), so every relative reference in the page is versioned too and the app's files
 * come from the cache on the next load; an address already under some version prefix (an app
 * naming a page by its own location) stands for the same file.
 * @param {{origin: string, installation?: Installation}} inst @param {string} raw
 */
function resolveAppUrl(inst, raw) {
  try {
    const u = new URL(raw, `${inst.origin}/`);
    if (u.origin !== inst.origin) return null;
    u.pathname = u.pathname.replace(/^\/v\/[0-9a-f]{16}(?=\/assets\/)/, '');
    if (!u.pathname.startsWith('/assets/')) return null;
    const version = inst.installation?.assets_version;
    if (version && /^[0-9a-f]{16}$/.test(version)) u.pathname = `/v/${version}${u.pathname}`;
    return u;
  } catch { return null; }
}

/**
 * Creates one app iframe. Its URL carries `origin` (this page's exact origin) and `app_guid`.
 * @param {Installation} installation @param {string} locationName @param {URL} url
 * @param {HTMLElement} container @param {Record<string, any>} baseContext
 * @returns {Instance}
 */
function createInstance(installation, locationName, url, container, baseContext) {
  const guid = crypto.randomUUID();
  url.searchParams.set('origin', location.origin);
  url.searchParams.set('app_guid', guid);
  const frame = h('iframe', { class: 'app-frame', title: installation.name, 'data-app-guid': guid,
    'data-installation-id': installation.id, allow: 'clipboard-write' });
  const context = { ...baseContext, instanceGuid: guid, location: locationName };
  /** @type {Instance} */
  const inst = { guid, installation, location: locationName, origin: url.origin, frame, win: null, registered: false,
    context, subs: new Map(), hooks: new Map(), wrapper: container, onDestroy: [] };
  byGuid.set(guid, inst);
  container.append(frame);
  // The window exists once the frame is in the document; register it before the src loads.
  inst.win = frame.contentWindow;
  if (inst.win) byWindow.set(inst.win, inst);
  frame.src = url.href;
  return inst;
}

/** Removes an instance; a modal tells its listeners `modal.close`. @param {Instance} inst */
function destroy(inst) {
  if (!byGuid.has(inst.guid)) return;
  if (inst.location === 'modal') emit(inst, 'modal.close');
  byGuid.delete(inst.guid);
  if (inst.win) byWindow.delete(inst.win);
  for (const settle of inst.hooks.values()) settle({ msg: undefined });
  for (const fn of inst.onDestroy.splice(0)) fn();
  inst.frame.remove();
}

/** Shows or hides a top_bar / nav_bar app's pane. @param {Instance} inst @param {boolean} open */
function showPane(inst, open) {
  if (inst.wrapper.hidden === !open) return;
  inst.wrapper.hidden = !open;
  if (inst.location === 'top_bar') setTopBarPopover(open);
  if (inst.location === 'nav_bar') setNavPane(open);
  emit(inst, open ? 'pane.activated' : 'pane.deactivated');
  emit(inst, open ? 'app.activated' : 'app.deactivated');
}

/** The context ids a page provides, from its URL. */
function pageContext() {
  /** @type {Record<string, any>} */
  const ctx = { product: 'support', host: 'zendesk', account: { subdomain: session.account?.subdomain ?? null } };
  const m = /^\/(tickets|users|organizations)\/(\d+)$/.exec(location.pathname);
  if (m) ctx[{ tickets: 'ticketId', users: 'userId', organizations: 'organizationId' }[/** @type {'tickets'} */ (m[1])]] = Number(m[2]);
  return ctx;
}

/** Mounted location elements and their instances. @type {Map<Element, Instance[]>} */
const mounted = new Map();

/**
 * Creates the iframes of every enabled installation for one location element.
 * @param {HTMLElement} el
 */
async function mount(el) {
  if (mounted.has(el)) return;
  mounted.set(el, []);
  const name = el.getAttribute('data-app-location') ?? '';
  if (name === 'modal') return;
  const { installations, template } = await installed();
  if (!el.isConnected || !template) return;
  /** @type {Instance[]} */
  const list = [];
  mounted.set(el, list);
  let shown = 0;
  for (const installation of installations) {
    const loc = installation.locations.find((l) => l.product === 'support' && l.location === name);
    if (!loc || !loc.url) continue;
    const origin = template.replace('{id}', String(installation.app_id));
    const url = resolveAppUrl({ origin, installation }, loc.url);
    if (!url) continue; // remote URLs (server-side apps) are not supported yet
    mountOne(el, name, installation, loc, url, list);
    shown++;
  }
  if (shown) el.querySelector('.apps-empty')?.remove();
  attachModel();
}

/**
 * Places one app in a location. With `autoLoad: false` only its icon (bars) or its collapsed box
 * (sidebars) appears, and the iframe is created when the agent first opens it; background apps
 * always load. Created instances go into `list`, which unmount destroys.
 * @param {HTMLElement} el @param {string} name @param {Installation} installation
 * @param {ManifestLocation} loc @param {URL} url @param {Instance[]} list
 * @param {Node|null} [before] where in `el` to put it (a live reload keeps the app's place); default: last
 */
function mountOne(el, name, installation, loc, url, list, before = null) {
  const lazy = loc.auto_load === false && name !== 'background';
  /** @param {HTMLElement} container */
  const create = (container) => {
    const inst = createInstance(installation, name, url, container, pageContext());
    list.push(inst);
    return inst;
  };
  if (name === 'top_bar' || name === 'nav_bar') {
    // An icon in the bar; the app lives in the shared popover / pane, hidden until opened.
    const holder = /** @type {HTMLElement} */ (document.querySelector(`[data-app-container="${name}"]`));
    const pane = h('div', { class: 'app-pane', hidden: true, 'data-installation-id': installation.id });
    holder.append(pane);
    /** @type {Instance|null} */
    let inst = null;
    const load = () => {
      const made = create(pane);
      made.onDestroy.push(() => { button.remove(); pane.remove(); });
      sizeFrame(made, loc, '100%', name === 'top_bar' ? '400px' : '100%');
      return made;
    };
    const button = h('button', { type: 'button', class: 'nav-item app-icon', title: installation.name, 'data-installation-id': installation.id,
      'aria-label': installation.name, onclick: () => {
        inst ??= load();
        showPane(inst, pane.hidden);
      } }, installation.name.slice(0, 1).toUpperCase());
    el.insertBefore(button, before);
    if (!lazy) inst = load();
    return;
  }
  /** @type {Instance|null} */
  let inst = null;
  const background = h('section', { class: 'app-box', 'data-installation-id': installation.id });
  const { box, body } = name === 'background' ? { box: background, body: background }
    : appBox({ title: installation.name, installationId: installation.id, collapsed: lazy,
      onToggle: (expanded) => {
        if (!inst) { inst = load(); return; } // its app.activated follows registration
        emit(inst, expanded ? 'app.expanded' : 'app.collapsed');
      } });
  function load() {
    const made = create(body);
    made.flexible = loc.flexible === true;
    made.onDestroy.push(() => box.remove());
    sizeFrame(made, loc, '100%', '200px');
    if (made.flexible) made.frame.style.width = '100%';
    return made;
  }
  el.insertBefore(box, before);
  if (loc.auto_hide) box.hidden = true;
  if (!lazy) inst = load();
}

/** @param {Instance} inst @param {ManifestLocation} loc @param {string} width @param {string} height */
function sizeFrame(inst, loc, width, height) {
  inst.frame.style.width = cssLength(loc.size?.width) ?? width;
  inst.frame.style.height = cssLength(loc.size?.height) ?? height;
}

/** @param {Element} el */
function unmount(el) {
  for (const inst of mounted.get(el) ?? []) destroy(inst);
  mounted.delete(el);
}

// --- the ticket model: change events, submit events and the ticket.save hook -----------------

/** @type {WeakSet<object>} */
const attached = new WeakSet();

/** Instances that live beside the open ticket. */
function ticketInstances() {
  return [...byGuid.values()].filter((i) => ['ticket_sidebar', 'new_ticket_sidebar'].includes(i.location));
}

function attachModel() {
  const model = /** @type {import('../ticket-model.js').TicketModel|undefined} */ (/** @type {any} */ (window).zaffreTicket);
  if (!model || attached.has(model)) return;
  attached.add(model);
  let updatedQueued = false;
  model.onAny((name, detail) => {
    if (/** @type {any} */ (window).zaffreTicket !== model) return;
    const change = /^ticket\.(.+)\.changed$/.exec(name);
    /** @type {Array<[string, unknown]>} */
    const events = [];
    if (change && detail && typeof detail === 'object' && 'property' in detail) {
      for (const ev of zafEventsFor(detail.property)) events.push([ev, detail.value]);
      if (detail.source === 'server' && !updatedQueued) {
        // Changes from elsewhere (another agent, the API): one ticket.updated per refresh.
        updatedQueued = true;
        queueMicrotask(() => {
          updatedQueued = false;
          for (const inst of ticketInstances()) emit(inst, 'ticket.updated', { id: model.id });
        });
      }
    } else if (name.startsWith('ticket.submit.')) {
      events.push([name, { id: detail?.id ?? null }]);
    }
    for (const inst of ticketInstances()) for (const [ev, value] of events) emit(inst, ev, value);
  });
  model.addBeforeSave(() => runSaveHooks(model));
}

/**
 * Sends the ticket.save hook to every subscribed instance and waits for all replies.
 * @param {object} model
 * @param {boolean} [dryRun] a rehearsal from the dev console: the outcome is reported, nothing saves
 * @returns {Promise<string|false|undefined>} a message (or false) to veto, undefined to save
 */
async function runSaveHooks(model, dryRun = false) {
  if (/** @type {any} */ (window).zaffreTicket !== model) return undefined;
  /** @type {Promise<any>[]} */
  const replies = [];
  for (const about of ticketInstances()) {
    for (const inst of emitTargets(about, 'ticket.save')) {
      replies.push(new Promise((resolve) => {
        const timer = setTimeout(() => {
          note('host', inst, { key: 'hook.timeout', event: 'ticket.save' });
          resolve({ msg: 'An app did not answer in time; the ticket was not saved.' });
        }, HOOK_TIMEOUT_MS);
        inst.hooks.set('ticket.save', (error) => { clearTimeout(timer); inst.hooks.delete('ticket.save'); resolve(error); });
      }));
      /** @type {Record<string, unknown>} */
      const msg = { key: 'zaf.ticket.save', needsReply: true };
      if (inst !== about) msg.instanceGuid = about.guid;
      post(inst, msg);
    }
  }
  const errors = (await Promise.all(replies)).filter((e) => e !== null);
  const text = errors.map((e) => e?.msg).find((m) => typeof m === 'string' && m.trim() !== '');
  const veto = errors.length === 0 ? undefined : text ?? 'An app prevented saving this ticket.';
  note('host', null, { key: 'ticket.save.outcome', allowed: veto === undefined, message: veto ?? null, hooks: replies.length, dryRun });
  return veto;
}

/** @param {Instance} about @param {string} name */
function emitTargets(about, name) {
  return [...byGuid.values()].filter((inst) => inst.registered && inst.installation.id === about.installation.id
    && (inst.subs.get(subKey(about.guid, name)) ?? 0) > 0);
}

// --- development (`zaffre dev`): live reload and the event console ----------------------------

/**
 * The live instances, for the event console's filters and targets.
 * @returns {Array<{guid: string, appId: number, installationId: number, name: string, location: string, registered: boolean}>}
 */
export function liveInstances() {
  return [...byGuid.values()].map((i) => ({ guid: i.guid, appId: i.installation.app_id, installationId: i.installation.id,
    name: i.installation.name, location: i.location, registered: i.registered }));
}

/**
 * Recreates every iframe of one app (its files or manifest changed): re-reads the installed list,
 * replaces the app in each mounted location in place (a top_bar / nav_bar pane that was open
 * opens again), closes its modals, and leaves other apps untouched. The new iframes register
 * afresh, as on a page load.
 * @param {number} appId @returns {Promise<number>} how many instances were created
 */
export async function reloadApp(appId) {
  const ids = new Set((await installed()).installations.filter((i) => i.app_id === appId).map((i) => i.id));
  resetInstalled();
  const { installations, template } = await installed();
  const fresh = installations.filter((i) => i.app_id === appId);
  for (const i of fresh) ids.add(i.id);
  for (const inst of [...byGuid.values()]) if (inst.installation.app_id === appId && inst.location === 'modal') destroy(inst);
  let created = 0;
  for (const [el, list] of [...mounted]) {
    if (!el.isConnected || !template) continue;
    const name = el.getAttribute('data-app-location') ?? '';
    const holder = document.querySelector(`[data-app-container="${name}"]`);
    // Boxes, icons and panes of this app, loaded or not (autoLoad: false creates no instance).
    const stale = [...el.children, ...(holder?.children ?? [])]
      .filter((n) => ids.has(Number(n.getAttribute('data-installation-id') ?? NaN)));
    const old = list.filter((i) => i.installation.app_id === appId);
    const wasOpen = old.some((i) => ['top_bar', 'nav_bar'].includes(i.location) && !i.wrapper.hidden);
    const marker = document.createComment('app reload'); // keeps the app's place among the others
    const first = stale.find((n) => n.parentElement === el);
    if (first) first.before(marker); else el.append(marker);
    for (const inst of old) {
      if (wasOpen && inst.location === 'top_bar') setTopBarPopover(false);
      if (wasOpen && inst.location === 'nav_bar') setNavPane(false);
      list.splice(list.indexOf(inst), 1);
      destroy(inst);
    }
    for (const n of stale) n.remove();
    for (const installation of fresh) {
      const loc = installation.locations.find((l) => l.product === 'support' && l.location === name);
      const url = loc?.url ? resolveAppUrl({ origin: template.replace('{id}', String(appId)), installation }, loc.url) : null;
      if (!loc || !url) continue;
      const count = list.length;
      // Placed before the marker, never moved afterwards: moving an iframe reloads it into a new window.
      mountOne(/** @type {HTMLElement} */ (el), name, installation, loc, url, list, marker);
      const made = list.slice(count);
      if (wasOpen && made[0]) showPane(made[0], true);
      created += made.length;
    }
    marker.remove();
    if (list.length) el.querySelector('.apps-empty')?.remove();
  }
  attachModel();
  note('host', null, { key: 'app.reloaded', appId, instances: created });
  return created;
}

/**
 * Delivers an event to one instance's listeners as the host does for its own events and for
 * `client.trigger` (only windows subscribed to it get it).
 * @param {string} guid @param {string} name @param {unknown} [message]
 * @returns {number} how many windows it went to; -1 when there is no such instance
 */
export function fireEvent(guid, name, message) {
  const inst = byGuid.get(guid);
  if (!inst) return -1;
  return emit(inst, name, message).length;
}

/**
 * Runs the ticket.save hooks of the open ticket's apps exactly as a save does (same dispatch,
 * same 30 s limit, same veto rules) without saving anything.
 * @returns {Promise<{ticket: boolean, allowed: boolean, message: string|null}>}
 */
export async function rehearseSave() {
  const model = /** @type {any} */ (window).zaffreTicket;
  if (!model) return { ticket: false, allowed: false, message: null };
  // One set of hook replies at a time: a save in flight owns them.
  if (model.saving) return { ticket: true, allowed: false, message: 'A save is in progress; try again when it is done.' };
  const veto = await runSaveHooks(model, true);
  return { ticket: true, allowed: veto === undefined, message: typeof veto === 'string' ? veto : null };
}

// --- wiring -----------------------------------------------------------------------------------

let observer = /** @type {MutationObserver|null} */ (null);

/** Starts the app host for a signed-in agent: mounts every app location, now and as pages change. */
export function startAppHost() {
  if (observer || !session.user || session.user.role === 'end-user') return;
  for (const el of document.querySelectorAll('[data-app-location]')) void mount(/** @type {HTMLElement} */ (el));
  observer = new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.removedNodes) {
        if (!(node instanceof Element)) continue;
        for (const el of [...mounted.keys()]) if (el === node || node.contains(el)) unmount(el);
      }
      for (const node of r.addedNodes) {
        if (!(node instanceof HTMLElement)) continue;
        const found = node.matches('[data-app-location]') ? [node] : [...node.querySelectorAll('[data-app-location]')];
        for (const el of found) void mount(/** @type {HTMLElement} */ (el));
      }
    }
  });
  observer.observe(document.body, { childList: true, subtree: true });
}

/** Stops every app (sign-out). */
export function stopAppHost() {
  observer?.disconnect();
  observer = null;
  for (const el of [...mounted.keys()]) unmount(el);
  resetInstalled();
}
