// The admin area's Audit log section: every request an app made through zaffre's proxy
// (`client.request()`), refusals included, newest first, from GET /api/zaffre/proxy_audit.json.
//
// The filters live in the page's URL (/admin/audit?installation_id=…&refused=true…), so a filtered
// view can be bookmarked and the back button works; paging follows the API's cursors (`after`).
// The export link downloads the same filtered rows as JSON lines (proxy_audit.jsonl).
//
// Rows never hold secret values: the server records setting names only and paths without their
// query strings, so everything here can be shown as it is.
import { get, qs } from '../api.js';
import { h, icon } from '../dom.js';
import { timeEl } from '../ui.js';
import { loadDirectory, userName } from '../directory.js';

/**
 * @typedef {{id: number, created_at: string, installation_id: number, app_id: number, user_id: number,
 *   method: string, scheme: string, host: string, port: number, path: string, status: number|null,
 *   duration_ms: number, request_bytes: number, response_bytes: number, secure_settings_used: string[],
 *   refused: boolean, refusal: string|null, retries: number}} AuditEntry
 */

/** Rows per page. */
const PAGE_SIZE = 50;

/** The filter keys the page keeps in its URL, as the API names them (dates are the page's own). */
const FILTER_KEYS = ['installation_id', 'status', 'refused', 'host', 'from', 'to'];

/**
 * Renders the section into `content`.
 * @param {import('../app.js').PageContext} ctx
 * @param {HTMLElement} content
 */
export async function auditSection(ctx, content) {
  /** @type {Record<string, string>} */
  const filters = {};
  for (const key of FILTER_KEYS) filters[key] = ctx.query.get(key) ?? '';
  const after = ctx.query.get('after') ?? '';
  const apiFilters = toApiFilters(filters);

  const [page, installations, apps] = await Promise.all([
    get(`/api/zaffre/proxy_audit.json${qs({ ...apiFilters, 'page[size]': PAGE_SIZE, 'page[after]': after || undefined })}`,
      { signal: ctx.signal }),
    get('/api/v2/apps/installations.json', { signal: ctx.signal }),
    get('/api/v2/apps.json', { signal: ctx.signal }),
    loadDirectory(),
  ]);
  if (ctx.signal.aborted) return;

  /** @type {Map<number, string>} */
  const appNames = new Map((apps.apps ?? []).map((/** @type {any} */ a) => [a.id, a.name]));
  /** @type {Map<number, string>} */
  const installationNames = new Map((installations.installations ?? []).map((/** @type {any} */ i) =>
    [i.id, String(i.settings?.name ?? appNames.get(i.app_id) ?? `#${i.id}`)]));
  /** @type {AuditEntry[]} */
  const entries = page.proxy_audit ?? [];

  /** @param {Record<string, string>} next @param {string} [cursor] */
  const go = (next, cursor) => {
    /** @type {Record<string, string>} */
    const query = {};
    for (const key of FILTER_KEYS) if (next[key]) query[key] = next[key];
    if (cursor) query.after = cursor;
    ctx.navigate(`/admin/audit${qs(query)}`);
  };

  const form = filterForm(filters, installationNames, go);
  const exportHref = `/api/zaffre/proxy_audit.jsonl${qs(apiFilters)}`;
  const nextCursor = page.meta?.has_more ? page.meta.after_cursor : null;
  const filtered = FILTER_KEYS.some((k) => filters[k]);

  content.replaceChildren(
    h('div', { class: 'list-header' },
      h('div', { class: 'list-heading' }, h('h1', { class: 'list-title' }, 'Audit log'),
        h('span', { class: 'list-count' }, 'Requests apps made through the proxy')),
      h('div', { class: 'list-actions' },
        h('a', { class: 'btn', id: 'audit-export', href: exportHref, download: 'proxy_audit.jsonl' }, 'Export JSON lines'),
        h('nav', { class: 'pager', 'aria-label': 'Pages' },
          h('button', { type: 'button', class: 'btn btn-small', disabled: !after, onclick: () => go(filters) }, 'Newest'),
          h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Older requests', disabled: !nextCursor,
            onclick: () => nextCursor && go(filters, nextCursor) }, icon('chevron-right'))))),
    form,
    h('div', { class: 'list-body' }, entries.length
      ? auditTable(entries, installationNames)
      : h('div', { class: 'empty-state', id: 'audit-empty' }, icon('lock', 'icon icon-xl'),
        h('h2', null, filtered ? 'No requests match these filters' : 'No proxied requests yet'),
        h('p', null, filtered
          ? 'Widen the date range or clear the filters.'
          : 'Each request an app makes through zaffre’s proxy, allowed or refused, is listed here.'))));
}

/**
 * The page's filters as the API's query parameters. Dates are whole days in UTC: "from" starts at
 * its midnight and "to" includes its whole day (the API's `until` is exclusive).
 * @param {Record<string, string>} f
 * @returns {Record<string, string|undefined>}
 */
function toApiFilters(f) {
  return {
    installation_id: f.installation_id || undefined,
    status: f.status || undefined,
    refused: f.refused === 'true' ? 'true' : undefined,
    host: f.host || undefined,
    since: f.from || undefined,
    until: f.to ? nextDay(f.to) : undefined,
  };
}

/** The day after a `YYYY-MM-DD` date, in the same form (or the input when it is not a date). @param {string} day */
function nextDay(day) {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? day : new Date(t + 86_400_000).toISOString().slice(0, 10);
}

/**
 * The filter bar: installation, status, refused only, host and a date range.
 * @param {Record<string, string>} filters
 * @param {Map<number, string>} installationNames
 * @param {(next: Record<string, string>) => void} go
 */
function filterForm(filters, installationNames, go) {
  const installation = h('select', { id: 'audit-installation', name: 'installation_id' },
    h('option', { value: '' }, 'All installations'),
    [...installationNames].map(([id, name]) =>
      h('option', { value: String(id), selected: String(id) === filters.installation_id }, `${name} (#${id})`)));
  const status = h('input', { type: 'text', id: 'audit-status', name: 'status', inputmode: 'numeric', pattern: '[1-5][0-9][0-9]',
    placeholder: 'e.g. 403', value: filters.status, size: 6, title: 'An HTTP status from 100 to 599' });
  const refused = h('input', { type: 'checkbox', id: 'audit-refused', name: 'refused', checked: filters.refused === 'true' });
  const host = h('input', { type: 'text', id: 'audit-host', name: 'host', placeholder: 'api.example.com', value: filters.host,
    autocomplete: 'off', spellcheck: 'false' });
  const from = h('input', { type: 'date', id: 'audit-from', name: 'from', value: filters.from });
  const to = h('input', { type: 'date', id: 'audit-to', name: 'to', value: filters.to });
  const form = h('form', { class: 'audit-filters', role: 'search', 'aria-label': 'Filter the audit log' },
    h('div', { class: 'field' }, h('label', { for: 'audit-installation' }, 'Installation'), installation),
    h('div', { class: 'field' }, h('label', { for: 'audit-status' }, 'Status'), status),
    h('div', { class: 'field' }, h('label', { for: 'audit-host' }, 'Host'), host),
    h('div', { class: 'field' }, h('label', { for: 'audit-from' }, 'From'), from),
    h('div', { class: 'field' }, h('label', { for: 'audit-to' }, 'To'), to),
    h('div', { class: 'field field-inline' }, refused, h('label', { for: 'audit-refused' }, 'Refused only')),
    h('div', { class: 'audit-filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      h('button', { type: 'button', class: 'btn', onclick: () => go({}) }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    go({
      installation_id: /** @type {HTMLSelectElement} */ (installation).value,
      status: /** @type {HTMLInputElement} */ (status).value.trim(),
      refused: /** @type {HTMLInputElement} */ (refused).checked ? 'true' : '',
      host: /** @type {HTMLInputElement} */ (host).value.trim().toLowerCase(),
      from: /** @type {HTMLInputElement} */ (from).value,
      to: /** @type {HTMLInputElement} */ (to).value,
    });
  });
  return form;
}

/**
 * @param {AuditEntry[]} entries
 * @param {Map<number, string>} installationNames
 */
function auditTable(entries, installationNames) {
  return h('table', { class: 'tickets admin-table audit-table', 'aria-label': 'Proxied requests' },
    h('thead', null, h('tr', null, ['Time', 'Installation', 'User', 'Request', 'Status', 'Duration', 'Bytes (sent / received)',
      'Secure settings'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, entries.map((e) => h('tr', { 'data-audit-id': e.id, class: e.refused ? 'audit-refused' : undefined },
      h('td', null, timeEl(e.created_at)),
      h('td', null, installationNames.get(e.installation_id) ?? `#${e.installation_id}`),
      h('td', null, userName(e.user_id)),
      h('td', { class: 'audit-request' },
        h('code', { class: 'mono' }, `${e.method || '?'} ${target(e)}`),
        e.refusal ? h('div', { class: 'audit-refusal small' }, e.refusal) : null,
        e.retries ? h('div', { class: 'muted small' }, `${e.retries} ${e.retries === 1 ? 'retry' : 'retries'} after 429`) : null),
      h('td', null, statusBadge(e)),
      h('td', { class: 'mono' }, `${e.duration_ms} ms`),
      h('td', { class: 'mono' }, `${formatBytes(e.request_bytes)} / ${formatBytes(e.response_bytes)}`),
      h('td', { class: 'small' }, e.secure_settings_used.length
        ? e.secure_settings_used.map((name) => h('code', { class: 'audit-setting' }, name))
        : h('span', { class: 'muted' }, 'none'))))));
}

/** `scheme://host:port/path`, leaving out the default port. @param {AuditEntry} e */
function target(e) {
  if (!e.host) return e.path || '(unreadable URL)';
  const defaultPort = (e.scheme === 'https' && e.port === 443) || (e.scheme === 'http' && e.port === 80);
  return `${e.scheme}://${e.host}${defaultPort || !e.port ? '' : `:${e.port}`}${e.path}`;
}

/** The status as a small badge: refused, an upstream error, or success. @param {AuditEntry} e */
function statusBadge(e) {
  const text = e.status == null ? '—' : String(e.status);
  const kind = e.refused ? 'audit-status-refused' : (e.status ?? 0) >= 400 ? 'audit-status-error' : 'audit-status-ok';
  return h('span', { class: `audit-status ${kind}`, title: e.refused ? 'Refused by zaffre' : 'Answered by the upstream' },
    e.refused ? `${text} refused` : text);
}

/** @param {number} n */
function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
