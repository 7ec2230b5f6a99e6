// The client-side ticket model: the single source of truth for one ticket open in the workspace.
//
// Every part of the page reads and writes the ticket through this object: the properties panel,
// the composer, the live-update refresher and (later) ZAF apps via client.get/set. Whoever changes
// a property, the model emits exactly one `ticket.<property>.changed` event for it, so the UI and
// apps stay in step without knowing about each other. It also remembers which properties hold
// unsaved local edits, so that a refresh from the server never overwrites them silently, and it
// runs "before save" hooks that may veto a save.
//
// Pure module: no DOM, no fetch. The caller passes a `send` function to `save()`, which keeps the
// model testable in plain node.

/** @typedef {'new'|'open'|'pending'|'hold'|'solved'|'closed'} Status */

/**
 * A ticket field definition as returned by /api/v2/ticket_fields.json (only what the model needs).
 * @typedef {{id: number, type: string, title: string, active?: boolean,
 *   custom_field_options?: Array<{id?: number, name: string, value: string}>}} FieldDef
 */

/**
 * A ticket as returned by the Zendesk-shaped REST API (only the properties the model tracks).
 * @typedef {{id?: number|null, subject?: string|null, description?: string|null, status?: string,
 *   priority?: string|null, type?: string|null, requester_id?: number|null, submitter_id?: number|null,
 *   assignee_id?: number|null, group_id?: number|null, organization_id?: number|null, tags?: string[],
 *   custom_fields?: Array<{id: number, value: unknown}>, created_at?: string, updated_at?: string}} ApiTicket
 */

/**
 * @typedef {{property: string, value: unknown, previous: unknown, source: string}} ChangeEvent
 * @typedef {{property: string, mine: unknown, theirs: unknown, actorId: number|null}} Conflict
 * @typedef {{patch: Record<string, unknown>, model: TicketModel}} SaveContext
 * @typedef {(ctx: SaveContext) => unknown} BeforeSaveHook
 * @typedef {(name: string, detail: any) => void} AnyListener
 */

export const STATUSES = /** @type {const} */ (['new', 'open', 'pending', 'hold', 'solved', 'closed']);
export const PRIORITIES = /** @type {const} */ (['low', 'normal', 'high', 'urgent']);
export const TYPES = /** @type {const} */ (['question', 'incident', 'problem', 'task']);

/** Properties sent to the API under their own name (custom fields and the comment are special). */
const PLAIN_PROPERTIES = ['subject', 'description', 'status', 'priority', 'type', 'requester_id',
  'assignee_id', 'group_id', 'tags'];

/** Read-only properties the model keeps so readers (and apps) can get them, never sent back. */
const READ_ONLY = ['id', 'submitter_id', 'organization_id', 'created_at', 'updated_at'];

const COMMENT_TEXT = 'comment.text';
const COMMENT_TYPE = 'comment.type';

/** Raised when a before-save hook vetoes the save. */
export class SaveVetoedError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'SaveVetoedError';
  }
}

/**
 * Two values mean the same thing to the API. Empty string, null and undefined are all "unset";
 * tags compare as sets; numbers compare by their text so "12" from an input equals 12 from JSON.
 * @param {unknown} a
 * @param {unknown} b
 */
export function sameValue(a, b) {
  const emptyA = a === null || a === undefined || a === '';
  const emptyB = b === null || b === undefined || b === '';
  if (emptyA || emptyB) return emptyA && emptyB;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return false;
    const sa = [...new Set(a.map(String))].sort();
    const sb = [...new Set(b.map(String))].sort();
    return sa.length === sb.length && sa.every((v, i) => v === sb[i]);
  }
  return String(a) === String(b);
}

/**
 * Tags as Zendesk stores them: lower-case, no spaces, unique.
 * @param {unknown} value
 * @returns {string[]}
 */
export function normalizeTags(value) {
  /** @type {unknown[]} */
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  /** @type {string[]} */
  const out = [];
  for (const item of list) {
    const tag = String(item ?? '').trim().toLowerCase().replace(/\s+/g, '_');
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

/** @param {unknown} v */
function idOrNull(v) {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Maps a 422 RecordInvalid body to messages per model property, so the UI can show each next to
 * its control. Custom field errors arrive under `details.base` with a `field_key`.
 * @param {any} body
 * @returns {Map<string, string[]>}
 */
export function fieldErrorsFrom422(body) {
  /** @type {Map<string, string[]>} */
  const out = new Map();
  const details = body && typeof body === 'object' ? body.details : null;
  /** @param {string} key @param {string} msg */
  const add = (key, msg) => {
    const list = out.get(key) ?? [];
    list.push(msg);
    out.set(key, list);
  };
  if (details && typeof details === 'object') {
    for (const [attr, errors] of Object.entries(details)) {
      for (const err of Array.isArray(errors) ? errors : [errors]) {
        const msg = typeof err === 'string' ? err : String(err?.description ?? err?.error ?? 'is invalid');
        if (attr === 'base' && err && typeof err === 'object' && err.field_key != null) {
          add(`custom_field_${err.field_key}`, msg);
        } else if (attr === 'comment' || attr === 'comment.body' || attr === 'body' || attr === 'description') {
          // A new ticket's description is its first comment, typed in the composer.
          add(COMMENT_TEXT, msg);
        } else if (['requester', 'assignee', 'group'].includes(attr)) {
          add(`${attr}_id`, msg);
        } else if (attr === 'ticket_type') {
          add('type', msg);
        } else {
          add(attr, msg);
        }
      }
    }
  }
  if (out.size === 0 && body && typeof body === 'object' && (body.description || body.error)) {
    add('base', String(body.description || body.error));
  }
  return out;
}

export class TicketModel {
  /** @type {Map<number, FieldDef>} */
  #fields = new Map();
  /** Values as the server last reported them. @type {Map<string, unknown>} */
  #saved = new Map();
  /** Values as the agent sees them (saved + local edits). @type {Map<string, unknown>} */
  #current = new Map();
  /** Properties with unsaved local edits. @type {Set<string>} */
  #dirty = new Set();
  /** @type {Map<string, Set<(detail: any) => void>>} */
  #listeners = new Map();
  /** @type {Set<AnyListener>} */
  #anyListeners = new Set();
  /** @type {Set<BeforeSaveHook>} */
  #hooks = new Set();
  /** @type {Map<string, Conflict>} */
  #conflicts = new Map();
  #saving = false;
  #hookTimeoutMs;

  /**
   * @param {{fields?: FieldDef[], ticket?: ApiTicket, hookTimeoutMs?: number}} [options]
   */
  constructor(options = {}) {
    for (const f of options.fields ?? []) this.#fields.set(f.id, f);
    this.#hookTimeoutMs = options.hookTimeoutMs ?? 30_000;
    this.#current.set(COMMENT_TEXT, '');
    this.#current.set(COMMENT_TYPE, 'publicReply');
    this.#current.set('tags', []);
    this.#current.set('status', 'new');
    for (const f of this.customFields()) this.#current.set(`custom_field_${f.id}`, this.#normalize(`custom_field_${f.id}`, null));
    for (const [k, v] of this.#current) this.#saved.set(k, v);
    if (options.ticket) this.applyServer(options.ticket, { source: 'load' });
  }

  /** Custom field definitions known to the model, in the order given. */
  customFields() {
    return [...this.#fields.values()].filter((f) => !['subject', 'description', 'status', 'priority',
      'tickettype', 'group', 'assignee'].includes(f.type));
  }

  /** @param {string} property */
  #fieldFor(property) {
    const m = /^custom_field_(\d+)$/.exec(property);
    return m ? this.#fields.get(Number(m[1])) : undefined;
  }

  /**
   * Brings a value into the shape the model stores for that property.
   * Integer and decimal fields keep unparseable input as a string on purpose: the server is the
   * authority on validity and answers with a 422 the UI shows next to the field.
   * @param {string} property
   * @param {unknown} value
   */
  #normalize(property, value) {
    if (property === 'tags') return normalizeTags(value);
    if (property.endsWith('_id')) return idOrNull(value);
    if (property === COMMENT_TEXT) return value == null ? '' : String(value);
    if (property === COMMENT_TYPE) return value === 'internalNote' ? 'internalNote' : 'publicReply';
    if (property === 'priority' || property === 'type') return value ? String(value) : null;
    const field = this.#fieldFor(property);
    if (field) {
      if (field.type === 'checkbox') return value === true || value === 'true' || value === 1 || value === '1';
      if (value === null || value === undefined || value === '') return null;
      if (field.type === 'integer' || field.type === 'decimal') {
        const text = String(value).trim();
        const ok = field.type === 'integer' ? /^-?\d+$/.test(text) : /^-?\d+(\.\d+)?$/.test(text);
        return ok ? Number(text) : text;
      }
      return String(value);
    }
    return value ?? null;
  }

  /**
   * Current value of a property: `subject`, `status`, `tags`, `assignee_id`, `custom_field_<id>`,
   * `comment.text`, `comment.type`, `id`, `updated_at`…
   * @param {string} property
   */
  get(property) {
    const v = this.#current.get(property);
    return Array.isArray(v) ? [...v] : v;
  }

  get id() {
    return /** @type {number|null} */ (this.#current.get('id') ?? null);
  }

  get isNew() {
    return this.id == null;
  }

  get saving() {
    return this.#saving;
  }

  /**
   * Changes a property from the UI, an app or a restored draft.
   * @param {string} property
   * @param {unknown} value
   * @param {{source?: string}} [options]
   * @returns {boolean} whether anything changed
   */
  set(property, value, options = {}) {
    if (READ_ONLY.includes(property)) throw new Error(`ticket.${property} is read-only`);
    if (!this.#isKnown(property)) throw new Error(`unknown ticket property: ${property}`);
    const next = this.#normalize(property, value);
    const previous = this.#current.get(property);
    if (sameValue(previous, next) && !(property === 'tags' && JSON.stringify(previous) !== JSON.stringify(next))) {
      return false;
    }
    this.#current.set(property, next);
    if (property === COMMENT_TEXT || property === COMMENT_TYPE) {
      // The comment is never "saved" state; it is dirty while it has text.
    } else if (sameValue(this.#saved.get(property), next)) {
      this.#dirty.delete(property);
      this.#conflicts.delete(property);
    } else {
      this.#dirty.add(property);
    }
    this.#emitChange(property, next, previous, options.source ?? 'ui');
    return true;
  }

  /** @param {string} property */
  #isKnown(property) {
    if (PLAIN_PROPERTIES.includes(property) || property === COMMENT_TEXT || property === COMMENT_TYPE) return true;
    return this.#fieldFor(property) !== undefined;
  }

  /** Properties with unsaved local edits (the comment counts while it has text). */
  dirtyProperties() {
    const list = [...this.#dirty];
    if (String(this.#current.get(COMMENT_TEXT) ?? '').trim() !== '') list.push(COMMENT_TEXT);
    return list;
  }

  /** @param {string} [property] */
  isDirty(property) {
    if (property === undefined) return this.dirtyProperties().length > 0;
    return this.dirtyProperties().includes(property);
  }

  /** Unresolved conflicts: properties changed on the server while the agent had a local edit. */
  conflicts() {
    return [...this.#conflicts.values()];
  }

  /** Forget a conflict once the agent decided to keep their own value. @param {string} property */
  dismissConflict(property) {
    if (this.#conflicts.delete(property)) this.#emit('ticket.conflicts.changed', { conflicts: this.conflicts() });
  }

  /** The saved value of a property, as the server last reported it. @param {string} property */
  savedValue(property) {
    return this.#saved.get(property);
  }

  /**
   * Takes in a ticket from the server (initial load, live refresh, or the answer to a save).
   * Properties without local edits follow the server and emit change events. Properties with
   * local edits keep the draft; if the server value moved, a conflict is recorded and announced.
   * @param {ApiTicket} ticket
   * @param {{source?: string, actorId?: number|null}} [options]
   */
  applyServer(ticket, options = {}) {
    const source = options.source ?? 'server';
    /** @type {Map<string, unknown>} */
    const incoming = new Map();
    for (const p of [...PLAIN_PROPERTIES, ...READ_ONLY]) {
      if (Object.prototype.hasOwnProperty.call(ticket, p)) {
        incoming.set(p, this.#normalize(p, /** @type {any} */ (ticket)[p]));
      }
    }
    if (Array.isArray(ticket.custom_fields)) {
      const byId = new Map(ticket.custom_fields.map((cf) => [Number(cf.id), cf.value]));
      for (const f of this.customFields()) {
        incoming.set(`custom_field_${f.id}`, this.#normalize(`custom_field_${f.id}`, byId.get(f.id) ?? null));
      }
    }
    let conflictsChanged = false;
    for (const [property, value] of incoming) {
      const before = this.#saved.get(property);
      this.#saved.set(property, value);
      if (READ_ONLY.includes(property)) {
        const prev = this.#current.get(property);
        this.#current.set(property, value);
        // Read-only properties change silently except the id (a new ticket got created).
        if (property === 'id' && !sameValue(prev, value)) this.#emitChange(property, value, prev, source);
        continue;
      }
      if (this.#dirty.has(property)) {
        if (sameValue(this.#current.get(property), value)) {
          // The server now agrees with the local edit: nothing left to save.
          this.#dirty.delete(property);
          if (this.#conflicts.delete(property)) conflictsChanged = true;
        } else if (!sameValue(before, value) && source !== 'load') {
          this.#conflicts.set(property, {
            property, mine: this.get(property), theirs: Array.isArray(value) ? [...value] : value,
            actorId: options.actorId ?? null,
          });
          conflictsChanged = true;
        }
        continue;
      }
      const previous = this.#current.get(property);
      if (!sameValue(previous, value) || (property === 'tags' && JSON.stringify(previous) !== JSON.stringify(value))) {
        this.#current.set(property, value);
        this.#emitChange(property, value, previous, source);
      }
    }
    if (conflictsChanged) this.#emit('ticket.conflicts.changed', { conflicts: this.conflicts() });
  }

  /**
   * The request body for a save: only changed properties plus the comment, so concurrent edits
   * to other properties by other agents are not overwritten. A new ticket sends everything set.
   * @returns {Record<string, unknown>}
   */
  buildPatch() {
    /** @type {Record<string, any>} */
    const patch = {};
    const isNew = this.isNew;
    for (const p of PLAIN_PROPERTIES) {
      const v = this.#current.get(p);
      if (this.#dirty.has(p) || (isNew && !sameValue(v, null) && !(Array.isArray(v) && v.length === 0))) {
        patch[p] = Array.isArray(v) ? [...v] : v;
      }
    }
    const custom = [];
    for (const f of this.customFields()) {
      const p = `custom_field_${f.id}`;
      const v = this.#current.get(p);
      if (this.#dirty.has(p) || (isNew && !sameValue(v, null) && v !== false)) custom.push({ id: f.id, value: v });
    }
    if (custom.length) patch.custom_fields = custom;
    const text = String(this.#current.get(COMMENT_TEXT) ?? '');
    if (text.trim() !== '') {
      patch.comment = { body: text, public: this.#current.get(COMMENT_TYPE) !== 'internalNote' };
    }
    return patch;
  }

  /**
   * Registers an async hook run before every save. It may return (or resolve to) `false` or a
   * message string to veto the save, or throw; anything else allows it.
   * @param {BeforeSaveHook} hook
   * @returns {() => void} unregister
   */
  addBeforeSave(hook) {
    this.#hooks.add(hook);
    return () => { this.#hooks.delete(hook); };
  }

  /**
   * Saves the ticket: runs the before-save hooks, then `send(patch)` which must perform the one
   * REST request and resolve to the ticket the server answered with.
   * Emits ticket.submit.start, then .done or .fail, then .always.
   * @param {(patch: Record<string, unknown>) => Promise<ApiTicket>} send
   * @param {{status?: string}} [options] "Submit as <status>" sets the status first.
   * @returns {Promise<ApiTicket>}
   */
  async save(send, options = {}) {
    if (this.#saving) throw new Error('a save is already in progress');
    if (options.status) this.set('status', options.status, { source: 'submit' });
    this.#saving = true;
    this.#emit('ticket.submit.start', { id: this.id });
    try {
      const patch = this.buildPatch();
      await this.#runHooks(patch);
      const sentComment = patch.comment ? this.#current.get(COMMENT_TEXT) : null;
      const sent = new Map(this.#dirty.size ? [...this.#dirty].map((p) => [p, this.#current.get(p)]) : []);
      const result = await send(patch);
      // What we sent is now the saved state, unless the agent typed more meanwhile.
      for (const [p, v] of sent) {
        this.#saved.set(p, v);
        if (sameValue(this.#current.get(p), v)) this.#dirty.delete(p);
        this.#conflicts.delete(p);
      }
      this.applyServer(result, { source: 'save' });
      if (sentComment !== null && this.#current.get(COMMENT_TEXT) === sentComment) {
        this.set(COMMENT_TEXT, '', { source: 'save' });
      }
      this.#emit('ticket.submit.done', { id: this.id, ticket: result });
      return result;
    } catch (error) {
      this.#emit('ticket.submit.fail', { id: this.id, error });
      throw error;
    } finally {
      this.#saving = false;
      this.#emit('ticket.submit.always', { id: this.id });
    }
  }

  /** @param {Record<string, unknown>} patch */
  async #runHooks(patch) {
    if (this.#hooks.size === 0) return;
    const ctx = { patch, model: this };
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('A before-save check did not answer in time.'), this.#hookTimeoutMs);
    });
    try {
      const answers = await Promise.race([
        Promise.all([...this.#hooks].map(async (hook) => {
          try {
            return await hook(ctx);
          } catch (err) {
            return err instanceof Error ? err.message : (typeof err === 'string' ? err : false);
          }
        })),
        timeout.then((msg) => [msg]),
      ]);
      for (const answer of answers) {
        if (answer === false) throw new SaveVetoedError('The save was cancelled.');
        if (typeof answer === 'string') throw new SaveVetoedError(answer);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Subscribes to one event (`ticket.status.changed`, `ticket.submit.done`, …).
   * @param {string} name
   * @param {(detail: any) => void} listener
   * @returns {() => void} unsubscribe
   */
  on(name, listener) {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, set = new Set());
    set.add(listener);
    return () => { set.delete(listener); };
  }

  /**
   * Subscribes to every event the model emits; the app bridge uses this to forward events.
   * @param {AnyListener} listener
   * @returns {() => void} unsubscribe
   */
  onAny(listener) {
    this.#anyListeners.add(listener);
    return () => { this.#anyListeners.delete(listener); };
  }

  /** @param {string} property @param {unknown} value @param {unknown} previous @param {string} source */
  #emitChange(property, value, previous, source) {
    /** @type {ChangeEvent} */
    const detail = { property, value: Array.isArray(value) ? [...value] : value, previous, source };
    this.#emit(`ticket.${property}.changed`, detail);
  }

  /** @param {string} name @param {any} detail */
  #emit(name, detail) {
    for (const l of [...(this.#listeners.get(name) ?? [])]) {
      try { l(detail); } catch (err) { reportListenerError(err); }
    }
    for (const l of [...this.#anyListeners]) {
      try { l(name, detail); } catch (err) { reportListenerError(err); }
    }
  }

  /** A plain snapshot of local edits, for persisting drafts across a lost session. */
  draft() {
    /** @type {Record<string, unknown>} */
    const fields = {};
    for (const p of this.#dirty) fields[p] = this.get(p);
    return { fields, comment: { text: this.get(COMMENT_TEXT), type: this.get(COMMENT_TYPE) } };
  }

  /**
   * Re-applies a draft saved by `draft()`; unknown properties are ignored.
   * @param {{fields?: Record<string, unknown>, comment?: {text?: unknown, type?: unknown}}} draft
   */
  restoreDraft(draft) {
    for (const [p, v] of Object.entries(draft.fields ?? {})) {
      if (this.#isKnown(p)) this.set(p, v, { source: 'draft' });
    }
    if (draft.comment?.type) this.set(COMMENT_TYPE, draft.comment.type, { source: 'draft' });
    if (draft.comment?.text) this.set(COMMENT_TEXT, draft.comment.text, { source: 'draft' });
  }
}

/** A listener's bug must not break the model or other listeners. @param {unknown} err */
function reportListenerError(err) {
  console.error('ticket model listener failed:', err);
}
