// The ticket list: the views panel (with counts) and one view or a search, with sorting and paging.
// State lives in the URL (/views/<name>?sort_by=&sort_order=&page=, /search?q=) so the back button,
// reloads and shared links all work.
import { get, qs } from '../api.js';
import { h, replace, icon } from '../dom.js';
import { loadDirectory } from '../directory.js';
import { onLive } from '../live.js';
import { ticketTable, tableKeys, pager, loading, showError } from '../ui.js';

/** @typedef {{name: string, title: string, query?: string}} View */

/** @type {View[]} */
export const VIEWS = [
  { name: 'my-unsolved', title: 'Your unsolved tickets', query: 'type:ticket assignee:me status<solved' },
  { name: 'unassigned', title: 'Unassigned tickets', query: 'type:ticket assignee:none status<solved' },
  { name: 'all-unsolved', title: 'All unsolved tickets', query: 'type:ticket status<solved' },
  { name: 'recent', title: 'Recently updated tickets' },
];

const PER_PAGE = 25;

/** @param {import('../app.js').PageContext} ctx */
export async function renderTicketList(ctx) {
  const isSearch = location.pathname === '/search';
  const q = (ctx.query.get('q') ?? '').trim();
  const view = isSearch ? null : VIEWS.find((v) => v.name === (ctx.params.view ?? 'my-unsolved'));
  if (!isSearch && !view) throw new Error(`There is no view called “${ctx.params.view}”.`);
  const title = view ? view.title : q ? `Search results for “${q}”` : 'Search';
  ctx.setTitle(view ? 'Views' : 'Search');
  if (isSearch) /** @type {HTMLInputElement} */ (document.getElementById('search-input')).value = q;

  const sortBy = ctx.query.get('sort_by') ?? 'updated_at';
  const sortOrder = ctx.query.get('sort_order') === 'asc' ? 'asc' : 'desc';
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);

  const counts = new Map();
  const viewsNav = h('nav', { class: 'views-panel', 'aria-label': 'Views' },
    h('h2', { class: 'views-title' }, 'Views'),
    h('ul', null, VIEWS.map((v) => h('li', null,
      h('a', { href: `/views/${v.name}`, class: `view-link${view?.name === v.name ? ' active' : ''}`,
        'aria-current': view?.name === v.name ? 'page' : undefined, 'data-view': v.name },
      h('span', { class: 'view-name' }, v.title), (() => { const c = h('span', { class: 'view-count' }); counts.set(v.name, c); return c; })())))),
    isSearch ? h('div', { class: 'views-search' }, h('h2', { class: 'views-title' }, 'Search'),
      h('a', { class: 'view-link active', href: location.pathname + location.search, 'aria-current': 'page' },
        h('span', { class: 'view-name' }, 'Search results'))) : null);

  const header = h('div', { class: 'list-header' });
  const body = h('div', { class: 'list-body' }, loading());
  const pane = h('section', { class: 'list-pane', 'aria-label': title }, header, body);
  ctx.main.append(h('div', { class: 'views-layout' }, viewsNav, pane));

  /** @param {Record<string, string|number|null>} changes */
  const go = (changes) => {
    const sp = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) sp.delete(k); else sp.set(k, String(v));
    }
    const s = sp.toString();
    ctx.navigate(`${location.pathname}${s ? `?${s}` : ''}`);
  };

  const fetchPage = async () => {
    if (view && !view.query) {
      const data = await get(`/api/v2/tickets.json${qs({ sort_by: sortBy, sort_order: sortOrder, page, per_page: PER_PAGE })}`,
        { signal: ctx.signal });
      return { tickets: data.tickets ?? [], count: data.count ?? null, next: Boolean(data.next_page) };
    }
    const query = view ? view.query : /\btype:/.test(q) ? q : `type:ticket ${q}`;
    const data = await get(`/api/v2/search.json${qs({ query, sort_by: sortBy, sort_order: sortOrder, page, per_page: PER_PAGE })}`,
      { signal: ctx.signal });
    const tickets = (data.results ?? []).filter((/** @type {any} */ r) => !r.result_type || r.result_type === 'ticket');
    return { tickets, count: data.count ?? null, next: Boolean(data.next_page) };
  };

  const loadCounts = async () => {
    await Promise.all(VIEWS.map(async (v) => {
      try {
        const data = v.query
          ? await get(`/api/v2/search.json${qs({ query: v.query, per_page: 1 })}`, { signal: ctx.signal })
          : await get(`/api/v2/tickets.json${qs({ per_page: 1 })}`, { signal: ctx.signal });
        counts.get(v.name).textContent = data.count == null ? '' : String(data.count);
      } catch { /* counts are a nicety */ }
    }));
  };

  const draw = async () => {
    if (isSearch && !q) {
      replace(header, h('h1', { class: 'list-title' }, 'Search'));
      replace(body, h('div', { class: 'empty-state' }, h('p', null, 'Type a search in the top bar, for example '),
        h('code', null, 'status:open tags:vip printer')));
      return;
    }
    const [result] = await Promise.all([fetchPage(), loadDirectory()]);
    if (ctx.signal.aborted) return;
    replace(header,
      h('div', { class: 'list-heading' }, h('h1', { class: 'list-title' }, title),
        h('span', { class: 'list-count' }, result.count == null ? '' : `${result.count} ticket${result.count === 1 ? '' : 's'}`)),
      h('div', { class: 'list-actions' },
        h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': 'Refresh list', onclick: () => { void draw(); } }, icon('refresh')),
        pager({ page, perPage: PER_PAGE, count: result.count, hasNext: result.next, onPage: (p) => go({ page: p }) })));
    if (result.tickets.length === 0) {
      replace(body, h('div', { class: 'empty-state' }, icon('inbox', 'icon icon-xl'),
        h('p', null, isSearch ? 'No tickets match this search.' : 'No tickets in this view. Nice work.')));
      return;
    }
    const selected = body.querySelector('tr.selected')?.getAttribute('data-ticket-id');
    replace(body, ticketTable(result.tickets, {
      label: title, sortBy, sortOrder,
      // tickets.json sorts by id too; search sorts by the fields Zendesk's search supports.
      sortable: (c) => c.sort !== 'id' || Boolean(view && !view.query),
      onSort: (key) => go({ sort_by: key, sort_order: key === sortBy && sortOrder === 'desc' ? 'asc' : 'desc', page: null }),
    }));
    if (selected) body.querySelector(`tr[data-ticket-id="${CSS.escape(selected)}"]`)?.classList.add('selected');
  };

  ctx.onKey((ev) => tableKeys(body, ev));

  // Another agent's change reorders or empties the view: refresh quietly, at most twice a second.
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  ctx.onCleanup(onLive(() => {
    clearTimeout(timer);
    timer = setTimeout(() => { if (!ctx.signal.aborted) { void draw().catch(() => {}); void loadCounts(); } }, 500);
  }));
  ctx.onCleanup(() => clearTimeout(timer));

  void loadCounts();
  try {
    await draw();
  } catch (err) {
    if (!ctx.signal.aborted) showError(body, err);
  }
}
