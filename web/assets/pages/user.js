// A user's page: their profile, the tickets they requested, and the user_sidebar apps panel.
import { get, qs } from '../api.js';
import { h } from '../dom.js';
import { loadDirectory, organizationById } from '../directory.js';
import { appsPanel, avatar, ticketTable, tableKeys, timeEl, loading, pager } from '../ui.js';

const PER_PAGE = 25;

/** @param {import('../app.js').PageContext} ctx */
export async function renderUser(ctx) {
  const id = Number(ctx.params.id);
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  ctx.setTitle('User');
  ctx.main.append(loading());
  const [{ user }, tickets] = await Promise.all([
    get(`/api/v2/users/${id}.json`, { signal: ctx.signal }),
    get(`/api/v2/users/${id}/tickets/requested.json${qs({ page, per_page: PER_PAGE, sort_by: 'updated_at', sort_order: 'desc' })}`, { signal: ctx.signal }),
    loadDirectory(),
  ]);
  if (ctx.signal.aborted) return;
  ctx.setTitle(user.name);
  const org = organizationById(user.organization_id);
  const list = tickets.tickets ?? [];
  const listBox = h('div', { class: 'list-body' }, list.length
    ? ticketTable(list, { label: `Tickets requested by ${user.name}` })
    : h('p', { class: 'empty-state' }, 'No tickets requested yet.'));
  ctx.onKey((ev) => tableKeys(listBox, ev));
  ctx.main.replaceChildren(h('div', { class: 'entity-layout' },
    h('section', { class: 'entity-main', 'aria-label': user.name },
      h('header', { class: 'entity-header' }, avatar(user.name, 'avatar-lg'),
        h('div', null, h('h1', { class: 'page-heading' }, user.name),
          h('p', { class: 'entity-sub' }, user.email ?? '', ' · ', h('span', { class: `role role-${user.role}` }, user.role ?? ''),
            org ? [' · ', h('a', { href: `/organizations/${org.id}` }, org.name)] : null)),
        h('a', { class: 'btn entity-action', href: `/tickets/new?requester_id=${user.id}` }, 'New ticket')),
      h('dl', { class: 'facts' },
        h('dt', null, 'Time zone'), h('dd', null, user.time_zone ?? '–'),
        h('dt', null, 'Language'), h('dd', null, user.locale ?? '–'),
        h('dt', null, 'Status'), h('dd', null, user.active === false ? 'Inactive' : 'Active'),
        h('dt', null, 'Member since'), h('dd', null, timeEl(user.created_at))),
      h('div', { class: 'list-header' }, h('div', { class: 'list-heading' }, h('h2', { class: 'list-title' }, 'Requested tickets'),
        h('span', { class: 'list-count' }, tickets.count != null ? String(tickets.count) : '')),
      pager({ page, perPage: PER_PAGE, count: tickets.count ?? null, hasNext: Boolean(tickets.next_page),
        onPage: (p) => ctx.navigate(`/users/${id}?page=${p}`) })),
      listBox),
    appsPanel('user_sidebar')));
}
