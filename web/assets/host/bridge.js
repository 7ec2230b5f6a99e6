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
 *   locations: ManifestLocation[], settings: Record<string, unknown>}} Installation
 * @typedef {{guid: string, installation: Installation, location: string, origin: string,
 *   frame: HTMLIFrameElement, win: Window|null, registered: boolean, context: Record<string, any>,
 *   subs: Map<string, number>, hooks: Map<string, (error: any) => void>, wrapper: HTMLElement,
 *   onDestroy: Array<() => void>}} Instance
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
    if (!inst.wrapper.hidden) emitLater(inst, 'app.activated');
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
      if (width) inst.frame.style.width = width;
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

/** An app-relative URL (`assets/x.html`) or one on the app's own origin; null otherwise. @param {Instance} inst @param {string} raw */
function resolveAppUrl(inst, raw) {
  try {
    const u = new URL(raw, `${inst.origin}/`);
    return u.origin === inst.origin && u.pathname.startsWith('/assets/') ? u : null;
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
  for (const installation of installations) {
    const loc = installation.locations.find((l) => l.product === 'support' && l.location === name);
    if (!loc || !loc.url) continue;
    const origin = template.replace('{id}', String(installation.app_id));
    const url = resolveAppUrl(/** @type {any} */ ({ origin }), loc.url);
    if (!url) continue; // remote URLs (server-side apps) are not supported yet
    list.push(mountOne(el, name, installation, loc, url));
  }
  mounted.set(el, list);
  if (list.length) el.querySelector('.apps-empty')?.remove();
  attachModel();
}

/**
 * @param {HTMLElement} el @param {string} name @param {Installation} installation
 * @param {ManifestLocation} loc @param {URL} url
 */
function mountOne(el, name, installation, loc, url) {
  const base = pageContext();
  if (name === 'top_bar' || name === 'nav_bar') {
    // An icon in the bar; the app lives in the shared popover / pane, hidden until opened.
    const holder = /** @type {HTMLElement} */ (document.querySelector(`[data-app-container="${name}"]`));
    const pane = h('div', { class: 'app-pane', hidden: true });
    holder.append(pane);
    const inst = createInstance(installation, name, url, pane, base);
    const button = h('button', { type: 'button', class: 'nav-item app-icon', title: installation.name,
      'aria-label': installation.name, onclick: () => showPane(inst, pane.hidden) }, installation.name.slice(0, 1).toUpperCase());
    el.append(button);
    inst.onDestroy.push(() => { button.remove(); pane.remove(); });
    sizeFrame(inst, loc, '100%', name === 'top_bar' ? '400px' : '100%');
    return inst;
  }
  const wrapper = h('section', { class: 'app-box', 'aria-label': installation.name, 'data-installation-id': installation.id },
    name === 'background' ? null : h('h3', { class: 'app-box-title' }, installation.name));
  el.append(wrapper);
  const inst = createInstance(installation, name, url, wrapper, base);
  inst.onDestroy.push(() => wrapper.remove());
  sizeFrame(inst, loc, '100%', '200px');
  if (loc.auto_hide) wrapper.hidden = true;
  return inst;
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
 * @returns {Promise<string|false|undefined>} a message (or false) to veto, undefined to save
 */
async function runSaveHooks(model) {
  if (/** @type {any} */ (window).zaffreTicket !== model) return undefined;
  /** @type {Promise<any>[]} */
  const replies = [];
  for (const about of ticketInstances()) {
    for (const inst of emitTargets(about, 'ticket.save')) {
      replies.push(new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ msg: 'An app did not answer in time; the ticket was not saved.' }), HOOK_TIMEOUT_MS);
        inst.hooks.set('ticket.save', (error) => { clearTimeout(timer); inst.hooks.delete('ticket.save'); resolve(error); });
      }));
      /** @type {Record<string, unknown>} */
      const msg = { key: 'zaf.ticket.save', needsReply: true };
      if (inst !== about) msg.instanceGuid = about.guid;
      post(inst, msg);
    }
  }
  const errors = (await Promise.all(replies)).filter((e) => e !== null);
  if (errors.length === 0) return undefined;
  const text = errors.map((e) => e?.msg).find((m) => typeof m === 'string' && m.trim() !== '');
  return text ?? 'An app prevented saving this ticket.';
}

/** @param {Instance} about @param {string} name */
function emitTargets(about, name) {
  return [...byGuid.values()].filter((inst) => inst.registered && inst.installation.id === about.installation.id
    && (inst.subs.get(subKey(about.guid, name)) ?? 0) > 0);
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
