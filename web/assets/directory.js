// Cached look-ups of the account's people and settings (users, groups, organizations, ticket
// fields), so lists and the ticket page can show names without a request per row.
import { get, qs } from './api.js';

/**
 * @typedef {{id: number, name: string, email?: string, role?: string, organization_id?: number|null,
 *   time_zone?: string, locale?: string, active?: boolean, created_at?: string, updated_at?: string}} User
 * @typedef {{id: number, name: string, description?: string}} Group
 * @typedef {{id: number, name: string, details?: string, notes?: string, domain_names?: string[],
 *   created_at?: string}} Organization
 * @typedef {{id: number, type: string, title: string, description?: string, active?: boolean,
 *   required?: boolean, position?: number, removable?: boolean,
 *   custom_field_options?: Array<{id?: number, name: string, value: string}>}} TicketField
 */

/** Collects every page of a list endpoint (bounded, so a huge account cannot hang the page). */
/**
 * @param {string} path
 * @param {string} key
 * @param {number} [maxPages]
 * @returns {Promise<any[]>}
 */
async function allPages(path, key, maxPages = 10) {
  /** @type {any[]} */
  const items = [];
  /** @type {string|null} */
  let next = path;
  for (let i = 0; next && i < maxPages; i++) {
    const data = await get(next);
    items.push(...(data?.[key] ?? []));
    next = data?.next_page ? toRelative(data.next_page) : null;
  }
  return items;
}

/** next_page links are absolute; keep requests on our own origin. @param {string} url */
function toRelative(url) {
  try {
    const u = new URL(url, location.origin);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/** @type {Map<number, User>} */
const users = new Map();
/** @type {Map<number, Group>} */
const groups = new Map();
/** @type {Map<number, Organization>} */
const organizations = new Map();
/** @type {TicketField[]} */
let fields = [];
/** @type {Promise<void> | null} */
let loading = null;

/** Loads everything once; later calls share the same promise. */
export function loadDirectory() {
  if (!loading) {
    loading = (async () => {
      const [u, g, o, f] = await Promise.all([
        allPages(`/api/v2/users.json${qs({ per_page: 100 })}`, 'users'),
        allPages(`/api/v2/groups.json${qs({ per_page: 100 })}`, 'groups'),
        allPages(`/api/v2/organizations.json${qs({ per_page: 100 })}`, 'organizations'),
        get('/api/v2/ticket_fields.json').then((d) => d?.ticket_fields ?? []),
      ]);
      users.clear(); for (const x of u) users.set(x.id, x);
      groups.clear(); for (const x of g) groups.set(x.id, x);
      organizations.clear(); for (const x of o) organizations.set(x.id, x);
      fields = [...f].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.id - b.id);
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** Forget cached data (after logout, or when an admin changed fields). */
export function resetDirectory() {
  loading = null;
  users.clear(); groups.clear(); organizations.clear(); fields = [];
}

/** @param {number|null|undefined} id */
export function userById(id) { return id == null ? undefined : users.get(id); }
/** @param {number|null|undefined} id */
export function groupById(id) { return id == null ? undefined : groups.get(id); }
/** @param {number|null|undefined} id */
export function organizationById(id) { return id == null ? undefined : organizations.get(id); }

/** Adds users learned from a sideload. @param {User[]|undefined} list */
export function rememberUsers(list) {
  for (const u of list ?? []) users.set(u.id, { ...users.get(u.id), ...u });
}

/** Every user, sorted by name. */
export function allUsers() {
  return [...users.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Agents and admins: the people a ticket can be assigned to. */
export function agents() {
  return allUsers().filter((u) => u.role === 'agent' || u.role === 'admin');
}

export function allGroups() {
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function allOrganizations() {
  return [...organizations.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Every ticket field, in admin order. */
export function ticketFields() {
  return fields;
}

/** Display name for a user id; falls back to "User #id" until the directory knows them. @param {number|null|undefined} id */
export function userName(id) {
  if (id == null) return '';
  return users.get(id)?.name ?? `User #${id}`;
}
