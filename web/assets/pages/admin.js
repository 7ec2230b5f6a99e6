// The admin area shell: a section nav (Users, Ticket fields, Apps, Audit log), read-only lists of
// users and fields, the Apps section (upload, install, settings), which lives in admin-apps.js, and
// the app proxy's audit log, in admin-audit.js.
import { get, qs } from '../api.js';
import { h, icon } from '../dom.js';
import { isAdmin } from '../session.js';
import { organizationById, loadDirectory } from '../directory.js';
import { avatar, timeEl, loading, pager } from '../ui.js';
import { appsSection } from './admin-apps.js';
import { auditSection } from './admin-audit.js';

const SECTIONS = [
  { name: 'users', label: 'Users', icon: 'user' },
  { name: 'fields', label: 'Ticket fields', icon: 'fields' },
  { name: 'apps', label: 'Apps', icon: 'apps' },
  { name: 'audit', label: 'Audit log', icon: 'lock' },
];

/** @type {Record<string, string>} */
const FIELD_TYPES = {
  subject: 'Subject (system)', description: 'Description (system)', status: 'Status (system)', priority: 'Priority (system)',
  tickettype: 'Type (system)', group: 'Group (system)', assignee: 'Assignee (system)', text: 'Text', textarea: 'Multi-line text',
  checkbox: 'Checkbox', date: 'Date', integer: 'Number', decimal: 'Decimal', tagger: 'Drop-down', regexp: 'Regular expression',
  multiselect: 'Multi-select',
};

/** @param {import('../app.js').PageContext} ctx */
export async function renderAdmin(ctx) {
  const section = ctx.params.section ?? 'users';
  if (!SECTIONS.some((s) => s.name === section)) throw new Error(`There is no admin section “${section}”.`);
  ctx.setTitle('Admin');
  const content = h('section', { class: 'admin-content', 'data-admin-section': section, 'aria-label': 'Admin section' });
  ctx.main.append(h('div', { class: 'admin-layout' },
    h('nav', { class: 'views-panel admin-nav', 'aria-label': 'Admin sections' },
      h('h2', { class: 'views-title' }, 'Admin'),
      h('ul', null, SECTIONS.map((s) => h('li', null, h('a', { href: `/admin/${s.name}`,
        class: `view-link${s.name === section ? ' active' : ''}`, 'aria-current': s.name === section ? 'page' : undefined },
      icon(s.icon), h('span', { class: 'view-name' }, s.label)))))),
    content));
  if (!isAdmin()) {
    content.append(h('div', { class: 'empty-state' }, h('h2', null, 'Admins only'),
      h('p', null, 'Ask an administrator of this helpdesk to make changes here.')));
    return;
  }
  content.append(loading());
  if (section === 'users') await usersSection(ctx, content);
  else if (section === 'fields') await fieldsSection(ctx, content);
  else if (section === 'audit') await auditSection(ctx, content);
  else await appsSection(ctx, content);
}

/** @param {import('../app.js').PageContext} ctx @param {HTMLElement} content */
async function usersSection(ctx, content) {
  const page = Math.max(1, Number(ctx.query.get('page')) || 1);
  const role = ctx.query.get('role') ?? '';
  const perPage = 50;
  const [data] = await Promise.all([
    get(`/api/v2/users.json${qs({ page, per_page: perPage, 'role[]': role ? [role] : undefined })}`, { signal: ctx.signal }),
    loadDirectory()]);
  if (ctx.signal.aborted) return;
  const roleSelect = h('select', { id: 'admin-role-filter' },
    [['', 'All roles'], ['end-user', 'End-users'], ['agent', 'Agents'], ['admin', 'Admins']].map(([v, l]) =>
      h('option', { value: v, selected: v === role }, l)));
  roleSelect.addEventListener('change', () => ctx.navigate(`/admin/users${roleSelect.value ? `?role=${roleSelect.value}` : ''}`));
  content.replaceChildren(
    h('div', { class: 'list-header' },
      h('div', { class: 'list-heading' }, h('h1', { class: 'list-title' }, 'Users'),
        h('span', { class: 'list-count' }, data.count != null ? `${data.count} people` : '')),
      h('div', { class: 'list-actions' }, h('label', { for: 'admin-role-filter', class: 'visually-hidden' }, 'Filter by role'), roleSelect,
        pager({ page, perPage, count: data.count ?? null, hasNext: Boolean(data.next_page),
          onPage: (p) => ctx.navigate(`/admin/users?${new URLSearchParams({ ...(role ? { role } : {}), page: String(p) })}`) }))),
    h('div', { class: 'list-body' }, h('table', { class: 'tickets admin-table', 'aria-label': 'Users' },
      h('thead', null, h('tr', null, ['Name', 'Email', 'Role', 'Organization', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, (data.users ?? []).map((/** @type {any} */ u) => h('tr', null,
        h('td', null, h('span', { class: 'name-cell' }, avatar(u.name, 'avatar-sm'), h('a', { href: `/users/${u.id}` }, u.name))),
        h('td', null, u.email ?? ''),
        h('td', null, h('span', { class: `role role-${u.role}` }, u.role)),
        h('td', null, organizationById(u.organization_id)?.name ?? ''),
        h('td', null, timeEl(u.created_at))))))));
}

/** @param {import('../app.js').PageContext} ctx @param {HTMLElement} content */
async function fieldsSection(ctx, content) {
  const data = await get('/api/v2/ticket_fields.json', { signal: ctx.signal });
  if (ctx.signal.aborted) return;
  const fields = [...(data.ticket_fields ?? [])].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.id - b.id);
  content.replaceChildren(
    h('div', { class: 'list-header' }, h('div', { class: 'list-heading' }, h('h1', { class: 'list-title' }, 'Ticket fields'),
      h('span', { class: 'list-count' }, `${fields.length} fields`))),
    h('div', { class: 'list-body' }, h('table', { class: 'tickets admin-table', 'aria-label': 'Ticket fields' },
      h('thead', null, h('tr', null, ['Title', 'Type', 'ID', 'Required', 'Active', 'Options'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, fields.map((f) => h('tr', { 'data-field-id': f.id },
        h('td', null, h('strong', null, f.title), f.description ? h('div', { class: 'muted small' }, f.description) : null),
        h('td', null, FIELD_TYPES[f.type] ?? f.type),
        h('td', { class: 'mono' }, String(f.id)),
        h('td', null, f.required ? 'Yes' : 'No'),
        h('td', null, f.active === false ? h('span', { class: 'muted' }, 'Inactive') : 'Active'),
        h('td', null, (f.custom_field_options ?? []).map((/** @type {any} */ o) => o.name).join(', '))))))));
}
