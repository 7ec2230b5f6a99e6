// An organization's page: its details, members, tickets, and the organization_sidebar apps panel.
import { get, qs } from '../api.js';
import { h } from '../dom.js';
import { loadDirectory, allUsers } from '../directory.js';
import { appsPanel, avatar, ticketTable, tableKeys, loading, pager } from '../ui.js';

const PER_PAGE = 25;

/** @param {import('../app.js').PageContext} ctx */
export async function renderOrganization(ctx) {
  const id = Number(ctx.params.id);
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  ctx.setTitle('Organization');
  ctx.main.append(loading());
  const [{ organization: org }, tickets] = await Promise.all([
    get(`/api/v2/organizations/${id}.json`, { signal: ctx.signal }),
    get(`/api/v2/organizations/${id}/tickets.json${qs({ page, per_page: PER_PAGE, sort_by: 'updated_at', sort_order: 'desc' })}`, { signal: ctx.signal }),
    loadDirectory(),
  ]);
  if (ctx.signal.aborted) return;
  ctx.setTitle(org.name);
  const members = allUsers().filter((u) => u.organization_id === id);
  const list = tickets.tickets ?? [];
  const listBox = h('div', { class: 'list-body' }, list.length
    ? ticketTable(list, { label: `Tickets of ${org.name}` })
    : h('p', { class: 'empty-state' }, 'No tickets from this organization yet.'));
  ctx.onKey((ev) => tableKeys(listBox, ev));
  ctx.main.replaceChildren(h('div', { class: 'entity-layout' },
    h('section', { class: 'entity-main', 'aria-label': org.name },
      h('header', { class: 'entity-header' }, avatar(org.name, 'avatar-lg avatar-square'),
        h('div', null, h('h1', { class: 'page-heading' }, org.name),
          h('p', { class: 'entity-sub' }, (org.domain_names ?? []).join(', ') || 'Organization'))),
      org.details || org.notes ? h('p', { class: 'entity-notes' }, org.details || org.notes) : null,
      h('h2', { class: 'section-title' }, `Members (${members.length})`),
      h('ul', { class: 'member-list' }, members.map((u) => h('li', null, avatar(u.name, 'avatar-sm'),
        h('a', { href: `/users/${u.id}` }, u.name), h('span', { class: 'muted' }, u.email ?? '')))),
      h('div', { class: 'list-header' }, h('div', { class: 'list-heading' }, h('h2', { class: 'list-title' }, 'Tickets'),
        h('span', { class: 'list-count' }, tickets.count != null ? String(tickets.count) : '')),
      pager({ page, perPage: PER_PAGE, count: tickets.count ?? null, hasNext: Boolean(tickets.next_page),
        onPage: (p) => ctx.navigate(`/organizations/${id}?page=${p}`) })),
      listBox),
    appsPanel('organization_sidebar')));
}
