// The Support API catalogue apps reach through client.get / set / invoke: paths and actions
// backed by the open ticket's model (window.zaffreTicket), the session, the directory and the
// REST API. Each handler gets the addressed instance; unknown paths throw APIUnavailable.
// The list with each entry's status is docs/sdk-api.md.
import { get as apiGet } from '../api.js';
import { session } from '../session.js';
import { userById, organizationById, groupById } from '../directory.js';
import { toast } from '../ui.js';
import { STATUSES, PRIORITIES, TYPES } from '../ticket-model.js';

/**
 * What a handler knows about the instance it runs for.
 * @typedef {{guid: string, location: string, installationId: number,
 *   context: Record<string, any>}} Target
 * @typedef {{
 *   instances: (installationId: number) => Record<string, any>,
 *   createInstance: (target: Target, options: any) => Record<string, any>,
 *   destroy: (guid: string) => void,
 *   resize: (guid: string, size: {width?: string, height?: string}) => void,
 *   popover: (guid: string, how: unknown) => void,
 *   preloadPane: (guid: string) => void,
 * }} HostOps
 */

/** An error apps see with a name (the SDK prefixes the path). */
export class ZafError extends Error {
  /** @param {string} name @param {string} message */
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** @param {string} path */
const unavailable = (path) => new ZafError('APIUnavailable', `Could not find handler for: "${path}"`);

/** @returns {import('../ticket-model.js').TicketModel|null} */
function model() {
  return /** @type {any} */ (window).zaffreTicket ?? null;
}

const TICKET_LOCATIONS = ['ticket_sidebar', 'new_ticket_sidebar', 'ticket_editor'];

/** The model for a ticket location, or an APIUnavailable error. @param {Target} t @param {string} path */
function ticketModel(t, path) {
  const m = model();
  if (!m || !TICKET_LOCATIONS.includes(t.location)) throw unavailable(path);
  return m;
}

/** A user in ZAF's shape. @param {number|null|undefined} id */
function zafUser(id) {
  if (id == null) return null;
  const u = userById(id);
  if (!u) return { id };
  return { id: u.id, name: u.name, email: u.email ?? null, role: u.role ?? null, locale: u.locale ?? null,
    timeZone: u.time_zone ? { ianaName: u.time_zone } : null, organizations: u.organization_id != null
      ? [zafOrganization(u.organization_id)] : [], externalId: null, avatarUrl: null };
}

/** @param {number|null|undefined} id */
function zafOrganization(id) {
  if (id == null) return null;
  const o = organizationById(id);
  return o ? { id: o.id, name: o.name, domains: (o.domain_names ?? []).join(' '), details: o.details ?? null,
    notes: o.notes ?? null } : { id };
}

/** @param {number|null|undefined} id */
function zafGroup(id) {
  if (id == null) return null;
  const g = groupById(id);
  return g ? { id: g.id, name: g.name } : { id };
}

/** Walks `a.b.c` inside a value; undefined when a step is missing. @param {any} value @param {string[]} rest */
function walk(value, rest) {
  let v = value;
  for (const key of rest) {
    if (v == null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = v[key];
  }
  return v;
}

/** The ticket as the REST API has it (for via, collaborators, comments). @param {number} id */
async function apiTicket(id) {
  return (await apiGet(`/api/v2/tickets/${id}.json`)).ticket;
}

/**
 * Top-level objects of the ticket API; nested paths walk into them.
 * @type {Record<string, (m: import('../ticket-model.js').TicketModel) => any>}
 */
const TICKET_OBJECTS = {
  id: (m) => m.id,
  subject: (m) => m.get('subject') ?? '',
  description: (m) => m.get('description') ?? '',
  status: (m) => m.get('status'),
  priority: (m) => m.get('priority') ?? '-',
  type: (m) => m.get('type') ?? 'ticket',
  tags: (m) => m.get('tags'),
  createdAt: (m) => m.get('created_at') ?? null,
  updatedAt: (m) => m.get('updated_at') ?? null,
  requester: (m) => zafUser(/** @type {number|null} */ (m.get('requester_id'))),
  assignee: (m) => ({ user: zafUser(/** @type {number|null} */ (m.get('assignee_id'))),
    group: zafGroup(/** @type {number|null} */ (m.get('group_id'))) }),
  organization: (m) => zafOrganization(/** @type {number|null} */ (m.get('organization_id'))
    ?? userById(/** @type {number|null} */ (m.get('requester_id')))?.organization_id),
  comment: (m) => ({ text: m.get('comment.text') ?? '', type: m.get('comment.type') }),
  form: () => ({ id: null }),
  isNew: (m) => m.isNew,
};

/**
 * Reads one path for an instance.
 * @param {string} path
 * @param {Target} t
 * @param {HostOps} ops
 * @returns {Promise<any>}
 */
export async function getPath(path, t, ops) {
  if (path === 'currentUser') return currentUser();
  if (path === 'currentAccount') {
    return { subdomain: session.account?.subdomain ?? null, name: session.account?.name ?? null, planName: 'zaffre' };
  }
  if (path === 'instances') return ops.instances(t.installationId);
  if (path.startsWith('instances.')) {
    const found = ops.instances(t.installationId)[path.slice('instances.'.length)];
    if (!found) throw unavailable(path);
    return found;
  }
  if (path.startsWith('currentUser.')) {
    const v = walk(currentUser(), path.split('.').slice(1));
    if (v === undefined) throw unavailable(path);
    return v;
  }
  if (path === 'comment.text' || path === 'comment.type') return ticketModel(t, path).get(path);
  if (path === 'user' || path.startsWith('user.')) return entity(path, t, 'user_sidebar', 'userId', 'users', 'user');
  if (path === 'organization' || path.startsWith('organization.')) {
    return entity(path, t, 'organization_sidebar', 'organizationId', 'organizations', 'organization');
  }
  if (path === 'ticket' || path.startsWith('ticket.')) {
    const m = ticketModel(t, path);
    const parts = path.split('.').slice(1);
    const custom = /^customField:custom_field_(\d+)$/.exec(parts[0] ?? '');
    if (custom && parts.length === 1) {
      const v = m.get(`custom_field_${custom[1]}`);
      if (v === undefined) throw unavailable(path);
      return v;
    }
    if (parts.length === 0) return Object.fromEntries(Object.entries(TICKET_OBJECTS).map(([k, f]) => [k, f(m)]));
    if (parts[0] === 'comments') {
      if (m.id == null) return [];
      const data = await apiGet(`/api/v2/tickets/${m.id}/comments.json?per_page=100`);
      return walk((data.comments ?? []).map((/** @type {any} */ c) => ({
        id: c.id, value: c.html_body ?? c.body, author: zafUser(c.author_id), channel: c.via?.channel ?? 'web',
        createdAt: c.created_at, imageAttachments: [], nonImageAttachments: [], isPublic: c.public,
      })), parts.slice(1));
    }
    if (parts[0] === 'via' || parts[0] === 'collaborators') {
      const raw = m.id == null ? null : await apiTicket(m.id);
      const value = parts[0] === 'via' ? (raw?.via ?? { channel: 'web' })
        : (raw?.collaborator_ids ?? []).map((/** @type {number} */ id) => zafUser(id));
      const v = walk(value, parts.slice(1));
      if (v === undefined) throw unavailable(path);
      return v;
    }
    const head = TICKET_OBJECTS[parts[0]];
    if (!head) throw unavailable(path);
    const v = walk(head(m), parts.slice(1));
    if (v === undefined) throw unavailable(path);
    return v;
  }
  throw unavailable(path);
}

function currentUser() {
  const u = session.user;
  if (!u) return null;
  return { ...zafUser(u.id), id: u.id, name: u.name, email: u.email ?? null, role: u.role ?? null,
    locale: u.locale ?? 'en-US' };
}

/**
 * `user.*` on a user page, `organization.*` on an organization page, from the REST API.
 * @param {string} path @param {Target} t @param {string} location @param {string} idKey
 * @param {string} collection @param {'user'|'organization'} kind
 */
async function entity(path, t, location, idKey, collection, kind) {
  const id = t.context[idKey];
  if (t.location !== location || id == null) throw unavailable(path);
  const data = (await apiGet(`/api/v2/${collection}/${id}.json`))[kind];
  const shaped = kind === 'user'
    ? { ...zafUser(data.id), name: data.name, email: data.email ?? null, role: data.role ?? null,
      notes: data.notes ?? null, details: data.details ?? null, tags: data.tags ?? [] }
    : { ...zafOrganization(data.id), name: data.name, tags: data.tags ?? [] };
  const v = walk(shaped, path.split('.').slice(1));
  if (v === undefined) throw unavailable(path);
  return v;
}

/**
 * The model property a settable ZAF path names, with its value checked.
 * @param {string} path @param {unknown} value
 * @returns {[string, unknown]}
 */
function settable(path, value) {
  /** @param {readonly string[]} allowed */
  const oneOf = (allowed) => {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new ZafError('Error', `Invalid value; expected one of ${allowed.join(', ')}`);
    }
    return value;
  };
  const idOf = (/** @type {any} */ v) => {
    const id = v && typeof v === 'object' ? (v.id ?? v.userId) : v;
    if (id !== null && !(Number.isInteger(Number(id)) && Number(id) > 0)) throw new ZafError('Error', 'Invalid id');
    return id === null ? null : Number(id);
  };
  switch (path) {
    case 'ticket.subject': return ['subject', String(value ?? '')];
    case 'ticket.status': return ['status', oneOf(STATUSES.filter((s) => s !== 'closed'))];
    case 'ticket.priority': return ['priority', value === '-' || value === null ? null : oneOf(PRIORITIES)];
    case 'ticket.type': return ['type', value === 'ticket' || value === null ? null : oneOf(TYPES)];
    case 'ticket.tags': {
      if (!Array.isArray(value) || value.some((x) => typeof x !== 'string')) throw new ZafError('Error', 'Tags must be an array of strings');
      return ['tags', value];
    }
    case 'ticket.requester': case 'ticket.requester.id': return ['requester_id', idOf(value)];
    case 'ticket.assignee.user': case 'ticket.assignee.user.id': return ['assignee_id', idOf(value)];
    case 'ticket.assignee.group': case 'ticket.assignee.group.id': return ['group_id', idOf(value)];
    case 'ticket.comment.text': case 'comment.text': return ['comment.text', String(value ?? '')];
    case 'ticket.comment.type': case 'comment.type': return ['comment.type', oneOf(['publicReply', 'internalNote'])];
    case 'ticket.form.id': throw new ZafError('Error', 'Invalid Ticket Form ID');
    default: {
      const custom = /^ticket\.customField:custom_field_(\d+)$/.exec(path);
      if (custom) return [`custom_field_${custom[1]}`, value];
      throw unavailable(path);
    }
  }
}

/**
 * Sets one path for an instance; resolves with the value as the model now holds it.
 * @param {string} path @param {unknown} value @param {Target} t
 */
export async function setPath(path, value, t) {
  if (path === 'ticket.assignee' && value && typeof value === 'object') {
    const m = ticketModel(t, path);
    const v = /** @type {any} */ (value);
    if ('groupId' in v) m.set('group_id', settable('ticket.assignee.group.id', v.groupId)[1], { source: 'app' });
    if ('userId' in v) m.set('assignee_id', settable('ticket.assignee.user.id', v.userId)[1], { source: 'app' });
    return value;
  }
  const m = ticketModel(t, path);
  const [property, checked] = settable(path, value);
  try {
    m.set(property, checked, { source: 'app' });
  } catch (err) {
    throw unavailable(path);
  }
  return m.get(property);
}

/** The ZAF field name an app uses → the workspace's field wrapper. @param {string} name */
function fieldWrapper(name) {
  const property = ({ type: 'type', tickettype: 'type', ticket_type: 'type', assignee: 'assignee_id',
    group: 'group_id', requester: 'requester_id' })[name] ?? name;
  return /** @type {HTMLElement|null} */ (document.querySelector(`[data-field="${CSS.escape(property)}"]`));
}

/** HTML to plain text without ever inserting it into the page. @param {string} html */
function htmlToText(html) {
  return new DOMParser().parseFromString(String(html), 'text/html').body.textContent ?? '';
}

/**
 * Runs one action for an instance.
 * @param {string} name @param {any[]} args @param {Target} t @param {HostOps} ops
 */
export async function invokeAction(name, args, t, ops) {
  const append = (/** @type {string} */ text) => {
    const m = ticketModel(t, name);
    const current = String(m.get('comment.text') ?? '');
    m.set('comment.text', current ? `${current}${current.endsWith('\n') ? '' : '\n'}${text}` : text, { source: 'app' });
    return null;
  };
  switch (name) {
    case 'track': return null; // Zendesk's SDK reports clicks and hovers; nothing to do.
    case 'ticket.comment.appendText': case 'comment.appendText': return append(String(args[0] ?? ''));
    case 'ticket.comment.appendMarkdown': case 'comment.appendMarkdown': return append(String(args[0] ?? ''));
    case 'ticket.comment.appendHtml': case 'comment.appendHtml': return append(htmlToText(args[0] ?? ''));
    case 'ticket.tags.add': case 'ticket.tags.remove': {
      const m = ticketModel(t, name);
      const list = (Array.isArray(args[0]) ? args[0] : [args[0]]).map((x) => String(x ?? '').trim().toLowerCase()).filter(Boolean);
      const tags = /** @type {string[]} */ (m.get('tags') ?? []);
      m.set('tags', name.endsWith('add') ? [...tags, ...list] : tags.filter((x) => !list.includes(x)), { source: 'app' });
      return m.get('tags');
    }
    case 'notify': {
      const kind = args[1] === 'error' || (args[1] && typeof args[1] === 'object' && args[1].kind === 'error') ? 'error' : 'info';
      toast(String(args[0] ?? ''), kind);
      return null;
    }
    case 'resize': {
      const size = args[0] && typeof args[0] === 'object' ? args[0] : {};
      ops.resize(t.guid, { width: size.width, height: size.height });
      return null;
    }
    case 'popover': ops.popover(t.guid, args[0]); return null;
    case 'preloadPane': ops.preloadPane(t.guid); return null;
    case 'routeTo': {
      const [kind, id] = args;
      const paths = /** @type {Record<string, string>} */ ({ ticket: '/tickets/', user: '/users/', organization: '/organizations/' });
      if (kind === 'ticket' && id === 'new') return go('/tickets/new');
      if (!paths[kind] || !/^\d+$/.test(String(id))) throw new ZafError('Error', 'routeTo supports ticket, user and organization with an id');
      return go(paths[kind] + String(id));
    }
    case 'instances.create': return [ops.createInstance(t, args[0])];
    case 'destroy': ops.destroy(t.guid); return null;
    default: {
      const field = /^ticketFields:([\w.]+)\.(hide|show|enable|disable|optionValues)$/.exec(name);
      if (field) {
        ticketModel(t, name);
        const wrapper = fieldWrapper(field[1]);
        if (!wrapper) throw new ZafError('Error', `No ticket field "${field[1]}" here`);
        const how = field[2];
        if (how === 'hide' || how === 'show') wrapper.hidden = how === 'hide';
        if (how === 'enable' || how === 'disable') {
          for (const el of wrapper.querySelectorAll('input, select, textarea, button')) {
            /** @type {HTMLInputElement} */ (el).disabled = how === 'disable';
          }
        }
        if (how === 'optionValues') {
          const select = wrapper.querySelector('select');
          return select ? [...select.options].filter((o) => o.value).map((o) => ({ name: o.textContent, value: o.value })) : [];
        }
        return null;
      }
      throw unavailable(name);
    }
  }
}

/**
 * Navigates inside the workspace (app.js routes on popstate). After a tick: the caller's reply
 * goes out first, since leaving the page may remove the very iframe that asked.
 * @param {string} url
 */
function go(url) {
  setTimeout(() => {
    history.pushState(null, '', url);
    dispatchEvent(new PopStateEvent('popstate'));
  }, 0);
  return null;
}

/**
 * The ZAF event names for a ticket model change.
 * @param {string} property
 * @returns {string[]}
 */
export function zafEventsFor(property) {
  const custom = /^custom_field_(\d+)$/.exec(property);
  if (custom) return [`ticket.custom_field_${custom[1]}.changed`, `ticket.customField:custom_field_${custom[1]}.changed`];
  switch (property) {
    case 'requester_id': return ['ticket.requester.id.changed', 'ticket.requester.changed'];
    case 'assignee_id': return ['ticket.assignee.user.id.changed', 'ticket.assignee.changed'];
    case 'group_id': return ['ticket.assignee.group.id.changed', 'ticket.assignee.changed'];
    case 'comment.text': return ['ticket.comment.text.changed', 'comment.text.changed'];
    case 'comment.type': return ['ticket.comment.type.changed', 'comment.type.changed'];
    case 'organization_id': return ['ticket.organization.changed'];
    case 'created_at': case 'updated_at': case 'submitter_id': return [];
    default: return [`ticket.${property}.changed`];
  }
}
