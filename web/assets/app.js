// Entry point of the agent workspace: restores the session, routes every URL to its page with the
// History API, owns the shell (nav bar, top bar, user menu, help), global keyboard shortcuts and
// toasts. Pages live in ./pages/ and receive a PageContext.
import { request, setCsrfToken, setUnauthorizedHandler, post, ApiError } from './api.js';
import { session, setSession, isAdmin } from './session.js';
import { loadDirectory, resetDirectory } from './directory.js';
import { startLive, stopLive, onLiveStatus } from './live.js';
import { clearAllDrafts } from './drafts.js';
import { h, replace } from './dom.js';
import { closeMenus, toggleMenu } from './ui.js';
import './app-locations.js';
import { startAppHost, stopAppHost } from './host/bridge.js';
import { startDev, stopDev } from './dev/dev.js';
import { initials, avatarHue } from './format.js';
import { renderLogin } from './pages/login.js';
import { renderTicketList } from './pages/ticket-list.js';
import { renderTicket } from './pages/ticket.js';
import { renderNewTicket } from './pages/new-ticket.js';
import { renderUser } from './pages/user.js';
import { renderOrganization } from './pages/organization.js';
import { renderAdmin } from './pages/admin.js';

/**
 * What a page gets to render itself.
 * @typedef {{
 *   main: HTMLElement,
 *   params: Record<string, string>,
 *   query: URLSearchParams,
 *   signal: AbortSignal,
 *   setTitle: (title: string) => void,
 *   onCleanup: (fn: () => void) => void,
 *   onKey: (handler: (ev: KeyboardEvent) => boolean) => void,
 *   navigate: (url: string, options?: {replace?: boolean}) => void,
 * }} PageContext
 * @typedef {(ctx: PageContext) => void | Promise<void>} Page
 */

/** @type {Array<{pattern: RegExp, page: Page, nav: string, shell?: boolean}>} */
const ROUTES = [
  { pattern: /^\/login$/, page: renderLogin, nav: '', shell: false },
  { pattern: /^\/$/, page: renderTicketList, nav: 'views' },
  { pattern: /^\/views\/(?<view>[\w-]+)$/, page: renderTicketList, nav: 'views' },
  { pattern: /^\/search$/, page: renderTicketList, nav: 'search' },
  { pattern: /^\/tickets\/new$/, page: renderNewTicket, nav: 'new' },
  { pattern: /^\/tickets\/(?<id>\d+)$/, page: renderTicket, nav: 'views' },
  { pattern: /^\/users\/(?<id>\d+)$/, page: renderUser, nav: 'views' },
  { pattern: /^\/organizations\/(?<id>\d+)$/, page: renderOrganization, nav: 'views' },
  { pattern: /^\/admin(?:\/(?<section>[\w-]+))?$/, page: renderAdmin, nav: 'admin' },
];

const shell = /** @type {HTMLElement} */ (document.getElementById('shell'));
const loginRoot = /** @type {HTMLElement} */ (document.getElementById('login-root'));
const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const titleEl = /** @type {HTMLElement} */ (document.getElementById('page-title'));
const searchInput = /** @type {HTMLInputElement} */ (document.getElementById('search-input'));

/** Cleanup of the page currently shown. @type {Array<() => void>} */
let cleanups = [];
/** @type {Array<(ev: KeyboardEvent) => boolean>} */
let pageKeys = [];
let pageAbort = new AbortController();
let sessionLost = false;

/**
 * Moves to another URL inside the workspace.
 * @param {string} url
 * @param {{replace?: boolean}} [options]
 */
export function navigate(url, options = {}) {
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

async function render() {
  for (const fn of cleanups.splice(0)) {
    try { fn(); } catch (err) { console.error(err); }
  }
  pageKeys = [];
  pageAbort.abort();
  pageAbort = new AbortController();
  closeMenus();

  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = ROUTES.find((r) => r.pattern.test(path));
  const needsShell = route?.shell !== false;
  if (needsShell && !session.user) {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    return;
  }
  if (route && route.shell === false && session.user && path === '/login') {
    navigate(safeNext(new URLSearchParams(location.search).get('next')), { replace: true });
    return;
  }
  shell.hidden = !needsShell;
  loginRoot.hidden = needsShell;
  const target = needsShell ? main : loginRoot;
  replace(target);
  for (const a of document.querySelectorAll('[data-nav]')) {
    const current = route?.nav === a.getAttribute('data-nav');
    a.classList.toggle('active', current);
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (path !== '/search') searchInput.value = '';
  /** @type {PageContext} */
  const ctx = {
    main: target,
    params: /** @type {Record<string, string>} */ ({ ...(route?.pattern.exec(path)?.groups ?? {}) }),
    query: new URLSearchParams(location.search),
    signal: pageAbort.signal,
    setTitle: (t) => {
      titleEl.textContent = t;
      document.title = t ? `${t} · zaffre` : 'zaffre';
    },
    onCleanup: (fn) => { cleanups.push(fn); },
    onKey: (fn) => { pageKeys.push(fn); },
    navigate,
  };
  if (!route) {
    ctx.setTitle('Not found');
    replace(target, h('div', { class: 'empty-state' }, h('h2', null, 'Page not found'),
      h('p', null, 'Nothing lives at this address. '), h('a', { href: '/' }, 'Back to your tickets')));
    return;
  }
  try {
    await route.page(ctx);
  } catch (err) {
    if (ctx.signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) return; // the session handler took over
    console.error(err);
    replace(target, h('div', { class: 'empty-state', role: 'alert' },
      h('h2', null, err instanceof ApiError && err.status === 404 ? 'Not found' : 'Something went wrong'),
      h('p', null, err instanceof Error ? err.message : String(err)),
      h('a', { href: '/' }, 'Back to your tickets')));
  }
}

/** Only same-origin paths are followed after login. @param {string|null} next */
export function safeNext(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/';
  return next;
}

/**
 * Makes the workspace usable for a signed-in user (after boot or a login).
 * @param {any} data the /auth/session or /auth/login body
 */
export function startSession(data) {
  setSession(data.user, data.account ?? null);
  setCsrfToken(data.csrf_token ?? null);
  sessionLost = false;
  renderUserMenu();
  for (const el of document.querySelectorAll('[data-admin-only]')) /** @type {HTMLElement} */ (el).hidden = !isAdmin();
  startLive();
  loadDirectory().catch((err) => console.error('directory', err));
  startAppHost();
  void startDev(); // the dev banner and event console, only under `zaffre dev`
}

/** The server said our session is gone: keep drafts (pages persist them) and ask to sign in again. */
function sessionExpired() {
  if (sessionLost) return;
  sessionLost = true;
  stopDev();
  stopAppHost();
  stopLive();
  setCsrfToken(null);
  setSession(null, null);
  resetDirectory();
  const here = location.pathname + location.search;
  const next = here.startsWith('/login') ? '/' : here;
  navigate(`/login?next=${encodeURIComponent(next)}&expired=1`);
}

async function logout() {
  try { await post('/auth/logout', {}); } catch { /* already signed out is fine */ }
  clearAllDrafts();
  stopDev();
  stopAppHost();
  stopLive();
  setCsrfToken(null);
  setSession(null, null);
  resetDirectory();
  navigate('/login');
}

function renderUserMenu() {
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('user-button'));
  const menu = /** @type {HTMLElement} */ (document.getElementById('user-menu'));
  const user = session.user;
  if (!user) return;
  button.textContent = initials(user.name);
  button.style.setProperty('--hue', String(avatarHue(user.name)));
  button.setAttribute('aria-label', `Account menu for ${user.name}`);
  replace(menu,
    h('div', { class: 'menu-header' }, h('strong', null, user.name), h('span', null, user.email ?? ''),
      h('span', { class: 'menu-role' }, `${user.role ?? ''} · ${session.account?.name ?? session.account?.subdomain ?? ''}`)),
    h('a', { role: 'menuitem', href: `/users/${user.id}` }, 'Your profile'),
    h('button', { role: 'menuitem', type: 'button', id: 'logout-button', onclick: () => { closeMenus(); void logout(); } }, 'Sign out'));
}

// --- keyboard -------------------------------------------------------------------------------

let pendingG = 0;
/** @type {Record<string, string>} */
const GO = {
  v: '/views/my-unsolved', u: '/views/unassigned', t: '/views/all-unsolved', r: '/views/recent',
  n: '/tickets/new', a: '/admin',
};

/** @param {EventTarget|null} target */
function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

document.addEventListener('keydown', (ev) => {
  if (!session.user) return;
  // Page handlers see every key first (Ctrl+Enter must work while typing in the composer).
  for (const fn of pageKeys) if (fn(ev)) { ev.preventDefault(); return; }
  if (ev.key === 'Escape') { closeMenus(); return; }
  if (isTyping(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (pendingG && Date.now() - pendingG < 1200) {
    pendingG = 0;
    const dest = GO[ev.key];
    if (dest) { ev.preventDefault(); navigate(dest); }
    return;
  }
  pendingG = 0;
  if (ev.key === 'g') { pendingG = Date.now(); return; }
  if (ev.key === '/') { ev.preventDefault(); searchInput.focus(); searchInput.select(); return; }
  if (ev.key === '?') { ev.preventDefault(); openHelp(); return; }
  if (ev.key === 'c') { ev.preventDefault(); navigate('/tickets/new'); }
});

function openHelp() {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('help-dialog'));
  if (!dialog.open) dialog.showModal();
}

// --- wiring ---------------------------------------------------------------------------------

document.addEventListener('click', (ev) => {
  const target = /** @type {Element|null} */ (ev.target instanceof Element ? ev.target : null);
  if (!target) return;
  if (!target.closest('[data-menu], [aria-haspopup]')) closeMenus();
  const a = target.closest('a');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('//') || a.target === '_blank' || a.hasAttribute('download')) return;
  if (href.startsWith('/api/') || href.startsWith('/auth/') || href.startsWith('/assets/')) return;
  ev.preventDefault();
  navigate(href);
});

window.addEventListener('popstate', () => { void render(); });

/** @type {HTMLFormElement} */ (document.getElementById('search-form')).addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = searchInput.value.trim();
  if (q) navigate(`/search?q=${encodeURIComponent(q)}`);
  searchInput.blur();
});

document.getElementById('user-button')?.addEventListener('click', (ev) => {
  toggleMenu(/** @type {HTMLElement} */ (ev.currentTarget), /** @type {HTMLElement} */ (document.getElementById('user-menu')));
});
document.getElementById('help-button')?.addEventListener('click', openHelp);
document.getElementById('help-close')?.addEventListener('click', () => {
  /** @type {HTMLDialogElement} */ (document.getElementById('help-dialog')).close();
});

onLiveStatus((up) => {
  const dot = document.getElementById('live-status');
  if (!dot) return;
  dot.classList.toggle('up', up);
  dot.setAttribute('title', up ? 'Live updates connected' : 'Live updates reconnecting…');
  dot.setAttribute('aria-label', up ? 'Live updates connected' : 'Live updates reconnecting');
});

setUnauthorizedHandler(sessionExpired);

async function boot() {
  try {
    const data = await request('GET', '/auth/session', undefined, { authRedirect: false });
    startSession(data);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.error('session check failed', err);
  }
  document.getElementById('boot')?.remove();
  await render();
}

void boot();
