// Shared pieces of the workspace UI: toasts, popup menus, status pills, avatars, the ticket table
// used by lists and the user/organization pages, and the collapsible apps panel.
import { h, icon, replace } from './dom.js';
import { statusLabel, PRIORITY_LABELS, relativeTime, fullDate, initials, avatarHue } from './format.js';
import { userName } from './directory.js';

/**
 * A short message in the corner.
 * @param {string} text
 * @param {'info'|'error'} [kind]
 */
export function toast(text, kind = 'info') {
  const box = /** @type {HTMLElement} */ (document.getElementById('toasts'));
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 3500);
}

/** Closes every open popup menu. */
export function closeMenus() {
  for (const el of document.querySelectorAll('[data-menu]')) {
    /** @type {HTMLElement} */ (el).hidden = true;
  }
  for (const el of document.querySelectorAll('[aria-haspopup][aria-expanded="true"]')) el.setAttribute('aria-expanded', 'false');
}

/**
 * Opens or closes a popup menu anchored to a button.
 * @param {HTMLElement} button
 * @param {HTMLElement} menu
 */
export function toggleMenu(button, menu) {
  const open = menu.hidden;
  closeMenus();
  menu.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  if (open) /** @type {HTMLElement|null} */ (menu.querySelector('a,button'))?.focus();
}

/** @param {string|null|undefined} status @param {boolean} [short] */
export function statusPill(status, short = false) {
  const label = statusLabel(status);
  return h('span', { class: `pill pill-${status ?? 'unknown'}${short ? ' pill-short' : ''}`, title: label },
    short ? label.slice(0, 1) : label);
}

/** @param {string|null|undefined} name @param {string} [size] */
export function avatar(name, size = '') {
  const el = h('span', { class: `avatar ${size}`, 'aria-hidden': 'true' }, initials(name));
  el.style.setProperty('--hue', String(avatarHue(name)));
  return el;
}

/** @param {string|null|undefined} iso */
export function timeEl(iso) {
  return h('time', { datetime: iso ?? '', title: fullDate(iso) }, relativeTime(iso));
}

/**
 * @typedef {{key: string, label: string, sort?: string, className?: string,
 *   cell: (t: any) => import('./dom.js').Child}} Column
 */

/** The columns every ticket table shows (narrow screens hide some through CSS). */
export const TICKET_COLUMNS = /** @type {Column[]} */ ([
  { key: 'status', label: 'Status', sort: 'status', className: 'col-status', cell: (t) => statusPill(t.status) },
  { key: 'subject', label: 'Subject', className: 'col-subject', cell: (t) => [
    h('a', { href: `/tickets/${t.id}`, class: 'row-link' }, t.subject || '(no subject)'),
    h('span', { class: 'ticket-id' }, `#${t.id}`)] },
  { key: 'requester', label: 'Requester', className: 'col-requester', cell: (t) => userName(t.requester_id) },
  { key: 'created_at', label: 'Requested', sort: 'created_at', className: 'col-date', cell: (t) => timeEl(t.created_at) },
  { key: 'updated_at', label: 'Updated', sort: 'updated_at', className: 'col-date', cell: (t) => timeEl(t.updated_at) },
  { key: 'priority', label: 'Priority', sort: 'priority', className: 'col-priority', cell: (t) => t.priority
    ? h('span', { class: `prio prio-${t.priority}` }, PRIORITY_LABELS[t.priority] ?? t.priority) : h('span', { class: 'muted' }, '–') },
  { key: 'assignee', label: 'Assignee', className: 'col-assignee', cell: (t) => t.assignee_id
    ? userName(t.assignee_id) : h('span', { class: 'muted' }, 'Unassigned') },
]);

/**
 * A dense ticket table with sortable headers and keyboard selection (j/k, Enter).
 * @param {any[]} tickets
 * @param {{label: string, sortBy?: string, sortOrder?: string, onSort?: (sortBy: string) => void,
 *   sortable?: (column: Column) => boolean}} options
 */
export function ticketTable(tickets, options) {
  const head = h('tr', null, TICKET_COLUMNS.map((c) => {
    const canSort = Boolean(c.sort && options.onSort && (!options.sortable || options.sortable(c)));
    const active = canSort && options.sortBy === c.sort;
    const th = h('th', { scope: 'col', class: c.className,
      'aria-sort': active ? (options.sortOrder === 'asc' ? 'ascending' : 'descending') : undefined });
    if (canSort) {
      th.appendChild(h('button', { type: 'button', class: `sort${active ? ' active' : ''}`,
        'aria-label': `Sort by ${c.label}`, onclick: () => options.onSort?.(/** @type {string} */ (c.sort)) },
        c.label, active ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, options.sortOrder === 'asc' ? '▲' : '▼') : null));
    } else {
      th.textContent = c.label;
    }
    return th;
  }));
  const body = h('tbody', null, tickets.map((t) => h('tr', { 'data-ticket-id': t.id, class: 'ticket-row' },
    TICKET_COLUMNS.map((c) => h('td', { class: c.className }, c.cell(t))))));
  const table = h('table', { class: 'tickets', 'aria-label': options.label }, h('thead', null, head), body);
  // Clicking anywhere on a row opens the ticket, like established helpdesks.
  body.addEventListener('click', (ev) => {
    const target = /** @type {Element} */ (ev.target);
    if (target.closest('a,button,input')) return;
    const row = target.closest('tr');
    row?.querySelector('a.row-link')?.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }));
  });
  return table;
}

/**
 * Moves the keyboard selection in a ticket table; returns true when the key was used.
 * @param {HTMLElement} container
 * @param {KeyboardEvent} ev
 */
export function tableKeys(container, ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
  const target = /** @type {HTMLElement|null} */ (ev.target instanceof HTMLElement ? ev.target : null);
  if (target && (['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) || target.isContentEditable)) return false;
  const rows = /** @type {HTMLElement[]} */ ([...container.querySelectorAll('tr.ticket-row')]);
  if (rows.length === 0) return false;
  const idx = rows.findIndex((r) => r.classList.contains('selected'));
  if (ev.key === 'j' || ev.key === 'k') {
    const next = ev.key === 'j' ? Math.min(rows.length - 1, idx + 1) : Math.max(0, idx === -1 ? 0 : idx - 1);
    rows.forEach((r, i) => { r.classList.toggle('selected', i === next); r.setAttribute('aria-selected', String(i === next)); });
    const link = /** @type {HTMLElement|null} */ (rows[next].querySelector('a.row-link'));
    link?.focus({ preventScroll: true });
    rows[next].scrollIntoView({ block: 'nearest' });
    return true;
  }
  if ((ev.key === 'Enter' || ev.key === 'o') && idx >= 0 && !(target && target.tagName === 'A')) {
    rows[idx].querySelector('a.row-link')?.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 }));
    return true;
  }
  return false;
}

/**
 * The collapsible panel that hosts apps for one location. Its body carries the stable
 * `data-app-location` hook the ZAF host runtime fills; for now it shows an empty state.
 * @param {string} location e.g. "ticket_sidebar"
 */
export function appsPanel(location) {
  const storageKey = `zaffre.apps-panel.${location}`;
  let collapsed = false;
  try { collapsed = localStorage.getItem(storageKey) === 'collapsed'; } catch { /* private mode */ }
  const body = h('div', { class: 'apps-panel-body', 'data-app-location': location, id: `apps-${location}` },
    h('div', { class: 'apps-empty' }, icon('apps', 'icon icon-lg'), h('p', null, 'No apps installed here yet.'),
      h('p', { class: 'muted' }, 'Apps for this location will appear in this panel.')));
  const toggle = h('button', { type: 'button', class: 'apps-toggle', 'aria-controls': body.id,
    'aria-expanded': String(!collapsed), 'aria-label': collapsed ? 'Show apps panel' : 'Hide apps panel' },
    icon('apps'), h('span', { class: 'apps-toggle-label' }, 'Apps'));
  const panel = h('aside', { class: `apps-panel${collapsed ? ' collapsed' : ''}`, 'aria-label': 'Apps' },
    h('div', { class: 'apps-panel-head' }, toggle), body);
  body.hidden = collapsed;
  toggle.addEventListener('click', () => {
    collapsed = !collapsed;
    panel.classList.toggle('collapsed', collapsed);
    body.hidden = collapsed;
    toggle.setAttribute('aria-expanded', String(!collapsed));
    toggle.setAttribute('aria-label', collapsed ? 'Show apps panel' : 'Hide apps panel');
    try { localStorage.setItem(storageKey, collapsed ? 'collapsed' : 'open'); } catch { /* private mode */ }
  });
  return panel;
}

/**
 * Prev/next paging controls with a "1–25 of 31" summary.
 * @param {{page: number, perPage: number, count: number|null, hasNext: boolean, onPage: (page: number) => void}} o
 */
export function pager(o) {
  const from = o.count === 0 ? 0 : (o.page - 1) * o.perPage + 1;
  const to = o.count == null ? (o.page - 1) * o.perPage + o.perPage : Math.min(o.count, o.page * o.perPage);
  const summary = o.count == null ? `${from}–${to}` : `${from}–${to} of ${o.count}`;
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('span', { class: 'pager-summary' }, summary),
    h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Previous page', disabled: o.page <= 1,
      onclick: () => o.onPage(o.page - 1) }, icon('chevron-left')),
    h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Next page', disabled: !o.hasNext,
      onclick: () => o.onPage(o.page + 1) }, icon('chevron-right')));
}

/** A placeholder while a page loads. @param {string} [text] */
export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** Empties an element and shows an error message inside it. @param {HTMLElement} el @param {unknown} err */
export function showError(el, err) {
  replace(el, h('div', { class: 'banner banner-error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
}
