// The event console of `zaffre dev`: a panel docked under the workspace that shows every message
// between the host and each app instance (calls and their replies, events, ticket.save hooks and
// their outcome, request:N and its done/fail), with filters, clear and pause, and controls that
// fire events at an app: ticket.updated, any event with a JSON payload (as client.trigger would
// deliver it), and a ticket.save rehearsal that runs the hooks exactly as a save does but saves
// nothing ("Save for real" submits the ticket through the page, hooks and all).
import { h, replace } from '../dom.js';
import { onTraffic, liveInstances, fireEvent, rehearseSave } from '../host/bridge.js';

/**
 * @typedef {import('../host/bridge.js').TrafficRecord} TrafficRecord
 * @typedef {{n: number, at: number, dir: TrafficRecord['dir'], guid: string|null, appId: number|null, appName: string,
 *   location: string, kind: string, title: string, summary: string, tone: string, detail: string}} Entry
 * @typedef {{element: HTMLElement, isOpen: () => boolean, setOpen: (open: boolean, focus?: boolean) => void,
 *   onOpenChange: (listener: (open: boolean) => void) => void, destroy: () => void}} ConsoleHandle
 */

/** How many messages the console keeps; older ones drop off. */
const MAX_ENTRIES = 1000;
const STORAGE_KEY = 'zaffre.dev-console';
const SECURE_NOTE = 'Secure settings are filled in on the zaffre server: the browser (and this console) only ever sees '
  + 'the {{setting.NAME}} placeholder, never the value.';

/** @param {unknown} v @param {number} [max] */
function brief(v, max = 140) {
  if (v === undefined) return '';
  let s;
  try { s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** @param {unknown} e */
const errorText = (e) => {
  const x = /** @type {any} */ (e);
  if (x && typeof x === 'object') return String(x.message ?? x.msg ?? brief(x));
  return x === undefined ? '(no message)' : String(x);
};

/** @param {string|null|undefined} guid */
const shortGuid = (guid) => (guid ? guid.slice(0, 8) : '');

/**
 * What one message is, in the console's words.
 * @param {TrafficRecord} r
 * @returns {{kind: string, title: string, summary: string, tone?: string}}
 */
export function classify(r) {
  const m = /** @type {Record<string, any>} */ (r.message ?? {});
  const key = typeof m.key === 'string' ? m.key : '';
  // The SDK names its own instance on every message; only another instance is worth showing.
  const about = typeof m.instanceGuid === 'string' && m.instanceGuid !== r.guid ? ` (about instance ${shortGuid(m.instanceGuid)})` : '';
  if (r.dir === 'in') {
    if (typeof m.request === 'string') {
      const params = m.request === 'get' ? (Array.isArray(m.params) ? m.params : [])
        : Object.entries(m.params ?? {}).map(([k, v]) => (m.request === 'set' ? `${k} = ${brief(v, 60)}` : `${k}(${brief(v, 60).slice(1, -1)})`));
      return { kind: 'call', title: `${m.request} #${m.id}`, summary: params.join(', ') + about };
    }
    if (key === 'iframe.handshake') return { kind: 'handshake', title: 'handshake', summary: m.message?.version ? `SDK ${m.message.version}` : '' };
    let x = /^iframe\.(on|off):(.+)$/.exec(key);
    if (x) return { kind: 'listen', title: `${x[1]} ${x[2]}`, summary: `${m.message?.subscriberCount ?? '?'} listener(s)${about}` };
    x = /^iframe\.trigger:(.+)$/.exec(key);
    if (x) return { kind: 'trigger', title: `trigger ${x[1]}`, summary: brief(m.message) + about };
    x = /^iframe\.reply:(.+)$/.exec(key);
    if (x) {
      const veto = 'error' in m;
      return { kind: 'hook', title: `${x[1]} reply`, summary: veto ? `veto: ${errorText(m.error)}` : 'allowed', tone: veto ? 'error' : 'ok' };
    }
    x = /^request:(\d+)$/.exec(key);
    if (x) {
      const o = m.message && typeof m.message === 'object' ? m.message : {};
      const flags = [o.secure ? 'secure' : '', o.cors ? 'cors' : '', o.jwt ? 'jwt' : ''].filter(Boolean).join(', ');
      return { kind: 'request', title: `request #${x[1]}`,
        summary: `${String(o.type ?? o.method ?? 'GET').toUpperCase()} ${String(o.url ?? '')}${flags ? ` [${flags}]` : ''}` };
    }
    return { kind: 'message', title: key || '(message)', summary: brief(m.message) };
  }
  if (r.dir === 'out') {
    if (!key && 'id' in m) {
      if (m.error) return { kind: 'reply', title: `reply #${m.id}`, summary: `error: ${errorText(m.error)}`, tone: 'error' };
      const result = m.result && typeof m.result === 'object' ? m.result : {};
      const errors = result.errors && typeof result.errors === 'object' ? Object.entries(result.errors) : [];
      const values = Object.entries(result).filter(([k]) => k !== 'errors').map(([k, v]) => `${k}: ${brief(v, 80)}`);
      const failed = errors.map(([k, e]) => `${k}: ${errorText(e)}`);
      return { kind: 'reply', title: `reply #${m.id}`, summary: [...values, ...failed].join(', ') || '(empty)',
        tone: failed.length ? 'error' : 'ok' };
    }
    if (key === 'zaf.app.registered') return { kind: 'registered', title: 'app.registered', summary: `${m.message?.context?.location ?? ''}` };
    let x = /^zaf\.request:(\d+)\.(done|fail)$/.exec(key);
    if (x) {
      const value = Array.isArray(m.message?.responseArgs) ? m.message.responseArgs[0] : undefined;
      if (x[2] === 'fail') {
        return { kind: 'response', title: `request #${x[1]} fail`, tone: 'error',
          summary: `${value?.status ?? '?'} ${value?.statusText ?? ''} ${brief(value?.responseJSON ?? value?.responseText, 100)}`.trim() };
      }
      return { kind: 'response', title: `request #${x[1]} done`, summary: brief(value), tone: 'ok' };
    }
    x = /^zaf\.(.+)$/.exec(key);
    if (x) {
      if (m.needsReply) return { kind: 'hook', title: `${x[1]} (waits for a reply)`, summary: about.trim() };
      return { kind: 'event', title: x[1], summary: brief(m.message) + about };
    }
    return { kind: 'message', title: key || '(message)', summary: brief(m) };
  }
  if (key === 'ticket.save.outcome') {
    const what = m.dryRun ? 'ticket.save rehearsal' : 'ticket.save';
    const hooks = `${m.hooks} hook${m.hooks === 1 ? '' : 's'}`;
    return m.allowed
      ? { kind: 'outcome', title: what, summary: `allowed (${hooks})${m.dryRun ? ': a save would go ahead; nothing was saved' : ': the save goes ahead'}`, tone: 'ok' }
      : { kind: 'outcome', title: what, summary: `aborted (${hooks}): ${m.message}`, tone: 'error' };
  }
  if (key === 'hook.timeout') return { kind: 'hook', title: `${m.event} timed out`, summary: 'no reply within 30 s: the save is aborted', tone: 'error' };
  if (key === 'app.reloaded') return { kind: 'reload', title: 'app reloaded', summary: `app ${m.appId}: ${m.instances} instance(s) created afresh` };
  if (key === 'console') return { kind: 'console', title: String(m.title ?? ''), summary: String(m.text ?? ''), tone: String(m.tone ?? '') };
  return { kind: 'host', title: key, summary: brief(m) };
}

/**
 * Creates the (closed) console docked under the workspace and starts recording.
 * @returns {ConsoleHandle}
 */
export function createConsole() {
  /** @type {Entry[]} */
  let entries = [];
  let seq = 0;
  let paused = false;
  let dropped = 0;
  let open = false;
  /** @type {Array<(open: boolean) => void>} */
  const openListeners = [];

  // --- the log side ---
  const filter = h('select', { id: 'dev-console-filter', class: 'dev-select' });
  const pauseBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false' }, 'Pause');
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Clear');
  const closeBtn = h('button', { type: 'button', class: 'btn btn-small btn-icon', 'aria-label': 'Close the event console', title: 'Close (Esc)' }, '×');
  const counter = h('span', { class: 'dev-count', 'aria-live': 'off' });
  const log = h('ol', { class: 'dev-log', role: 'log', 'aria-live': 'off', 'aria-label': 'Messages between the host and the apps', tabindex: '0' });

  // --- the fire side ---
  const target = h('select', { id: 'dev-fire-target', class: 'dev-select' });
  const outcome = h('p', { class: 'dev-outcome', role: 'status', id: 'dev-outcome' });
  const eventName = h('input', { id: 'dev-event-name', class: 'dev-input', type: 'text', placeholder: 'my_app.refresh',
    autocomplete: 'off', spellcheck: false });
  const payload = h('textarea', { id: 'dev-event-payload', class: 'dev-input mono', rows: 3, placeholder: '{"any": "JSON"}',
    spellcheck: false });
  const payloadError = h('p', { class: 'dev-field-error', id: 'dev-payload-error', hidden: true });
  payload.setAttribute('aria-describedby', payloadError.id);

  const fire = h('section', { class: 'dev-fire', 'aria-labelledby': 'dev-fire-title' },
    h('h3', { id: 'dev-fire-title' }, 'Fire at the app'),
    h('label', { for: target.id }, 'Instance'), target,
    h('div', { class: 'dev-fire-row' },
      h('button', { type: 'button', class: 'btn btn-small', id: 'dev-fire-updated', onclick: fireUpdated }, 'ticket.updated')),
    h('form', { class: 'dev-fire-custom', onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); fireCustom(); } },
      h('label', { for: eventName.id }, 'Event name'), eventName,
      h('label', { for: payload.id }, 'Payload (JSON, optional)'), payload, payloadError,
      h('button', { type: 'submit', class: 'btn btn-small' }, 'Trigger event')),
    h('div', { class: 'dev-fire-row' },
      h('button', { type: 'button', class: 'btn btn-small', id: 'dev-rehearse-save', onclick: () => { void rehearse(); },
        title: 'Runs every app\'s ticket.save hook as a save does; nothing is saved' }, 'Rehearse ticket.save'),
      h('button', { type: 'button', class: 'btn btn-small', id: 'dev-save-real', onclick: saveForReal,
        title: 'Submits the open ticket: hooks run, and the ticket saves if they all agree' }, 'Save for real')),
    outcome);

  const panel = h('section', { class: 'dev-console', id: 'dev-console', 'aria-labelledby': 'dev-console-title', tabindex: '-1', hidden: true },
    h('header', { class: 'dev-console-head' },
      h('h2', { id: 'dev-console-title' }, 'Event console'),
      h('label', { for: filter.id, class: 'visually-hidden' }, 'Show messages of'), filter,
      pauseBtn, clearBtn, counter,
      h('span', { class: 'dev-note' }, SECURE_NOTE),
      closeBtn),
    h('div', { class: 'dev-console-body' }, log, fire));

  const shell = document.getElementById('shell');
  if (shell) shell.after(panel); else document.body.append(panel);

  // --- recording ---
  const stopTraffic = onTraffic((r) => {
    if (paused) { dropped += 1; drawCount(); return; }
    const c = classify(r);
    let detail;
    try { detail = JSON.stringify(r.message, null, 2) ?? ''; } catch { detail = String(r.message); }
    if (detail.length > 8000) detail = `${detail.slice(0, 8000)}\n…`;
    if (c.kind === 'request') detail += `\n\n${SECURE_NOTE}`;
    add({ n: ++seq, at: r.at, dir: r.dir, guid: r.guid, appId: r.appId, appName: r.appName, location: r.location,
      kind: c.kind, title: c.title, summary: c.summary, tone: c.tone ?? '', detail });
    if (r.guid && ![...filter.options].some((o) => o.value === `inst:${r.guid}`)) refreshTargets();
    if (c.kind === 'reload' || c.kind === 'registered') refreshTargets();
  });

  /** @param {Entry} e */
  function add(e) {
    entries.push(e);
    if (entries.length > MAX_ENTRIES) {
      const gone = entries.splice(0, entries.length - MAX_ENTRIES);
      for (const g of gone) log.querySelector(`[data-n="${g.n}"]`)?.remove();
    }
    if (open && matches(e)) {
      const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      log.append(row(e));
      if (stick) log.scrollTop = log.scrollHeight;
    }
    drawCount();
  }

  /** A note from the console itself. @param {string} title @param {string} text @param {string} [tone] @param {string|null} [guid] */
  function say(title, text, tone = '', guid = null) {
    const inst = guid ? liveInstances().find((i) => i.guid === guid) : undefined;
    add({ n: ++seq, at: Date.now(), dir: 'host', guid, appId: inst?.appId ?? null, appName: inst?.name ?? '',
      location: inst?.location ?? '', kind: 'console', title, summary: text, tone, detail: '' });
  }

  /** @param {Entry} e */
  function matches(e) {
    const f = filter.value;
    if (!f) return true;
    if (e.guid === null && e.appId === null) return true; // the host's own notes concern every app
    if (f.startsWith('app:')) return e.appId === Number(f.slice(4));
    return e.guid === f.slice(5);
  }

  /** @param {Entry} e */
  function row(e) {
    const time = new Date(e.at);
    const stamp = `${time.toLocaleTimeString(undefined, { hour12: false })}.${String(time.getMilliseconds()).padStart(3, '0')}`;
    const dir = e.dir === 'in' ? 'app → host' : e.dir === 'out' ? 'host → app' : 'host';
    const who = e.guid ? `${e.appName} · ${e.location} · ${shortGuid(e.guid)}` : e.appName || '—';
    const details = h('pre', { class: 'dev-detail', hidden: true }, e.detail);
    const toggle = h('button', { type: 'button', class: 'dev-row-line', 'aria-expanded': 'false', disabled: !e.detail },
      h('span', { class: 'dev-time' }, stamp),
      h('span', { class: `dev-dir dev-dir-${e.dir}`, title: dir }, e.dir === 'in' ? '↑' : e.dir === 'out' ? '↓' : '•',
        h('span', { class: 'visually-hidden' }, dir)),
      h('span', { class: 'dev-who', title: e.guid ?? '' }, who),
      h('span', { class: `dev-kind dev-kind-${e.kind}` }, e.kind),
      h('span', { class: 'dev-title' }, e.title),
      h('span', { class: 'dev-summary' }, e.summary));
    toggle.addEventListener('click', () => {
      details.hidden = !details.hidden;
      toggle.setAttribute('aria-expanded', String(!details.hidden));
    });
    return h('li', { class: `dev-row${e.tone ? ` dev-tone-${e.tone}` : ''}`, 'data-n': e.n, 'data-kind': e.kind,
      'data-guid': e.guid ?? '' }, toggle, details);
  }

  function redraw() {
    replace(log, ...entries.filter(matches).map(row));
    log.scrollTop = log.scrollHeight;
    drawCount();
  }

  function drawCount() {
    if (!open) return;
    counter.textContent = `${entries.length} message${entries.length === 1 ? '' : 's'}${paused ? ` · paused, ${dropped} not recorded` : ''}`;
  }

  /** Rebuilds the filter and target lists from the live instances, keeping the choices. */
  function refreshTargets() {
    const live = liveInstances();
    /** @type {Map<number, string>} */
    const appNames = new Map();
    for (const e of entries) if (e.appId !== null) appNames.set(e.appId, e.appName);
    for (const i of live) appNames.set(i.appId, i.name);
    const keepFilter = filter.value;
    const keepTarget = target.value;
    replace(filter, h('option', { value: '' }, 'All apps'),
      [...appNames].map(([id, name]) => h('option', { value: `app:${id}` }, `${name} (every instance)`)),
      live.map((i) => h('option', { value: `inst:${i.guid}` }, `${i.name} · ${i.location} · ${shortGuid(i.guid)}`)));
    filter.value = [...filter.options].some((o) => o.value === keepFilter) ? keepFilter : '';
    const targets = live.filter((i) => i.registered);
    replace(target, targets.length ? targets.map((i) => h('option', { value: i.guid }, `${i.name} · ${i.location} · ${shortGuid(i.guid)}`))
      : h('option', { value: '' }, 'No app is running on this page'));
    const preferred = targets.find((i) => i.guid === keepTarget) ?? targets.find((i) => i.location.includes('ticket_sidebar')) ?? targets[0];
    target.value = preferred?.guid ?? '';
  }

  // --- firing ---
  /** @param {string} name @param {unknown} message */
  function fireAt(name, message) {
    const guid = target.value;
    if (!guid) { show('No app instance to fire at on this page.', 'error'); return; }
    const sent = fireEvent(guid, name, message);
    if (sent < 0) { refreshTargets(); show('That instance is gone (the app reloaded); pick it again.', 'error'); return; }
    if (sent === 0) {
      say(name, 'not delivered: the instance has no listener for this event (client.on was not called)', 'warn', guid);
      show(`${name}: no listener in this instance.`, 'warn');
    } else {
      show(`${name} delivered to ${sent} window${sent === 1 ? '' : 's'}.`, 'ok');
    }
  }

  function fireUpdated() {
    const model = /** @type {any} */ (window).zaffreTicket;
    fireAt('ticket.updated', model ? { id: model.id } : undefined);
  }

  function fireCustom() {
    const name = eventName.value.trim();
    payloadError.hidden = true;
    payload.removeAttribute('aria-invalid');
    if (!name) { show('Give the event a name.', 'error'); eventName.focus(); return; }
    /** @type {unknown} */
    let message;
    if (payload.value.trim()) {
      try { message = JSON.parse(payload.value); } catch (err) {
        payloadError.textContent = `Not JSON: ${err instanceof Error ? err.message : String(err)}`;
        payloadError.hidden = false;
        payload.setAttribute('aria-invalid', 'true');
        payload.focus();
        return;
      }
    }
    fireAt(name, message);
  }

  async function rehearse() {
    show('Running the ticket.save hooks…', '');
    const result = await rehearseSave();
    if (!result.ticket) { show('Open a ticket first: ticket.save hooks run for the apps beside a ticket.', 'error'); return; }
    if (result.allowed) show('ticket.save rehearsal: allowed — every app agreed (nothing was saved).', 'ok');
    else show(`ticket.save rehearsal: aborted — ${result.message}`, 'error');
  }

  function saveForReal() {
    const submit = /** @type {HTMLButtonElement|null} */ (document.getElementById('submit-button'));
    if (!submit || !(/** @type {any} */ (window).zaffreTicket)) { show('Open a ticket first.', 'error'); return; }
    show('Submitting the ticket: the hooks run, then the page shows the result.', '');
    submit.click();
  }

  /** @param {string} text @param {string} tone */
  function show(text, tone) {
    outcome.textContent = text;
    outcome.className = `dev-outcome${tone ? ` dev-tone-${tone}` : ''}`;
  }

  // --- controls ---
  filter.addEventListener('change', redraw);
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    if (!paused) dropped = 0;
    pauseBtn.setAttribute('aria-pressed', String(paused));
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    drawCount();
  });
  clearBtn.addEventListener('click', () => { entries = []; replace(log); drawCount(); });
  closeBtn.addEventListener('click', () => setOpen(false, true));
  panel.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { ev.stopPropagation(); setOpen(false, true); }
  });
  /** @param {KeyboardEvent} ev */
  const shortcut = (ev) => {
    if (ev.key === '`' && ev.ctrlKey && !ev.altKey && !ev.metaKey) { ev.preventDefault(); setOpen(!open, true); }
  };
  document.addEventListener('keydown', shortcut);

  /** @param {boolean} want @param {boolean} [focus] move the focus (keyboard use) */
  function setOpen(want, focus = false) {
    if (want === open) return;
    open = want;
    panel.hidden = !open;
    document.body.classList.toggle('dev-console-open', open); // toasts move above the panel
    try { sessionStorage.setItem(STORAGE_KEY, open ? 'open' : 'closed'); } catch { /* storage off */ }
    if (open) {
      refreshTargets();
      redraw();
      if (focus) panel.focus();
    } else if (focus) {
      document.getElementById('dev-console-toggle')?.focus();
    }
    for (const l of openListeners) l(open);
  }

  let startOpen = false;
  try { startOpen = sessionStorage.getItem(STORAGE_KEY) === 'open'; } catch { /* storage off */ }
  if (startOpen) setOpen(true);

  return {
    element: panel,
    isOpen: () => open,
    setOpen,
    onOpenChange: (l) => { openListeners.push(l); },
    destroy: () => {
      stopTraffic();
      document.body.classList.remove('dev-console-open');
      document.removeEventListener('keydown', shortcut);
      panel.remove();
    },
  };
}
