// The ticket page: properties panel, conversation, composer and the ticket_sidebar apps panel,
// all bound to one TicketModel. Saves send one PUT with only what changed; live events refresh the
// ticket in place without touching fields the agent is editing.
import { get, put, qs, ApiError } from '../api.js';
import { h, icon, replace } from '../dom.js';
import { TicketModel, fieldErrorsFrom422, SaveVetoedError } from '../ticket-model.js';
import { loadDirectory, ticketFields, rememberUsers, userName, userById, organizationById } from '../directory.js';
import { onLive } from '../live.js';
import { saveDraft, loadDraft, clearDraft } from '../drafts.js';
import { sanitizeHtml } from '../sanitize.js';
import { session } from '../session.js';
import { propertiesPanel, composer, showFieldErrors, clearAllFieldErrors, propertyLabel, displayValue } from '../ticket-form.js';
import { appsPanel, avatar, timeEl, statusPill, toast, loading } from '../ui.js';

/** @typedef {{id: number, type?: string, author_id: number, body?: string, html_body?: string,
 *   plain_body?: string, public: boolean, created_at: string}} Comment */

/**
 * All comments of a ticket, oldest first, following pages (bounded).
 * @param {number} id
 * @param {AbortSignal} signal
 * @returns {Promise<Comment[]>}
 */
async function fetchComments(id, signal) {
  /** @type {Comment[]} */
  const comments = [];
  /** @type {string|null} */
  let next = `/api/v2/tickets/${id}/comments.json${qs({ include: 'users', per_page: 100 })}`;
  for (let i = 0; next && i < 20; i++) {
    const data = await get(next, { signal });
    rememberUsers(data.users);
    comments.push(...(data.comments ?? []));
    next = data.next_page ? new URL(data.next_page, location.origin).pathname + new URL(data.next_page, location.origin).search : null;
  }
  return comments;
}

/** @param {number} id @param {AbortSignal} signal */
async function fetchTicket(id, signal) {
  const data = await get(`/api/v2/tickets/${id}.json${qs({ include: 'users,groups,organizations' })}`, { signal });
  rememberUsers(data.users);
  return data.ticket;
}

/** A comment body: sanitized HTML when there is some, else the plain text. @param {Comment} c */
function commentBody(c) {
  if (c.html_body) return h('div', { class: 'comment-body rich' }, sanitizeHtml(c.html_body));
  return h('div', { class: 'comment-body plain' }, c.plain_body ?? c.body ?? '');
}

/** @param {Comment} c */
function renderComment(c) {
  const name = userName(c.author_id);
  const author = userById(c.author_id);
  return h('li', { class: `comment ${c.public ? 'public' : 'internal'}`, 'data-comment-id': c.id,
    'aria-label': `${c.public ? 'Public reply' : 'Internal note'} by ${name}` },
  avatar(name),
  h('div', { class: 'comment-main' },
    h('div', { class: 'comment-head' },
      author ? h('a', { class: 'comment-author', href: `/users/${author.id}` }, name) : h('span', { class: 'comment-author' }, name),
      author && author.role === 'end-user' ? null : h('span', { class: 'comment-role' }, author?.role === 'admin' ? 'Admin' : 'Agent'),
      c.public ? null : h('span', { class: 'note-label' }, icon('lock'), 'Internal note'),
      timeEl(c.created_at)),
    commentBody(c)));
}

/** @param {import('../app.js').PageContext} ctx */
export async function renderTicket(ctx) {
  const id = Number(ctx.params.id);
  ctx.setTitle(`Ticket #${id}`);
  ctx.main.append(loading());
  const [ticket, comments] = await Promise.all([fetchTicket(id, ctx.signal), fetchComments(id, ctx.signal), loadDirectory()]);
  if (ctx.signal.aborted) return;
  const fields = ticketFields();
  const model = new TicketModel({ fields, ticket });
  // Exposed for the ZAF host runtime (next issue) and for debugging; never for persistence.
  /** @type {any} */ (window).zaffreTicket = model;
  ctx.onCleanup(() => { if (/** @type {any} */ (window).zaffreTicket === model) delete /** @type {any} */ (window).zaffreTicket; });

  const draft = loadDraft(id);
  if (draft) model.restoreDraft(draft);

  // --- header ---------------------------------------------------------------------------------
  const subject = h('input', { id: 'ticket-subject', class: 'subject-input', type: 'text', 'aria-label': 'Subject',
    'aria-describedby': 'ticket-subject-error', value: String(model.get('subject') ?? '') });
  subject.addEventListener('input', () => model.set('subject', subject.value));
  ctx.onCleanup(model.on('ticket.subject.changed', (d) => {
    if (subject.value !== d.value) subject.value = String(d.value ?? '');
    ctx.setTitle(`#${id} ${d.value ?? ''}`);
  }));
  const statusSlot = h('span');
  const drawStatus = () => replace(statusSlot, statusPill(/** @type {string} */ (model.savedValue('status'))));
  drawStatus();
  const metaLine = h('div', { class: 'ticket-meta' });
  const drawMeta = () => {
    const requester = userById(/** @type {number|null} */ (model.get('requester_id')));
    const org = organizationById(/** @type {number|null} */ (model.get('organization_id')) ?? requester?.organization_id);
    replace(metaLine, statusSlot, h('span', { class: 'ticket-id' }, `#${id}`),
      requester ? h('span', null, 'Requested by ', h('a', { href: `/users/${requester.id}` }, requester.name)) : null,
      org ? h('span', null, h('a', { href: `/organizations/${org.id}` }, org.name)) : null,
      h('span', null, 'Created ', timeEl(/** @type {string} */ (model.get('created_at')))),
      h('span', null, 'Updated ', timeEl(/** @type {string} */ (model.get('updated_at')))));
  };
  drawMeta();
  const subjectField = h('div', { class: 'field subject-field', 'data-field': 'subject' }, subject,
    h('p', { class: 'field-error', id: 'ticket-subject-error', role: 'alert', hidden: true }));
  ctx.setTitle(`#${id} ${model.get('subject') ?? ''}`);

  // --- notices: restored draft, conflicts, errors ---------------------------------------------
  const notices = h('div', { class: 'notices' });
  const conflictBox = h('div', { class: 'conflicts', role: 'status', 'aria-live': 'polite' });
  const errorBox = h('div', { class: 'save-errors', role: 'alert' });
  if (draft && model.isDirty()) {
    notices.append(h('div', { class: 'banner banner-info', id: 'draft-restored' },
      'Your unsaved draft was restored.',
      h('button', { type: 'button', class: 'btn btn-link', onclick: (/** @type {Event} */ ev) => {
        clearDraft(id);
        /** @type {HTMLElement} */ (/** @type {HTMLElement} */ (ev.currentTarget).parentElement).remove();
        ctx.navigate(location.pathname, { replace: true });
      } }, 'Discard draft')));
  }
  // Fields changed elsewhere while the agent was editing them: name who changed what, and let
  // the agent take the other value or keep their own.
  const drawConflicts = () => {
    replace(conflictBox, model.conflicts().map((c) => h('div', { class: 'banner banner-warn conflict', 'data-conflict': c.property },
      h('span', null, `${c.actorId != null ? userName(c.actorId) : 'Someone'} changed ${propertyLabel(c.property, fields)} to `,
        h('strong', null, displayValue(c.property, c.theirs, fields)), ' while you were editing.'),
      h('span', { class: 'banner-actions' },
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => model.set(c.property, c.theirs, { source: 'conflict' }) }, 'Use theirs'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => model.dismissConflict(c.property) },
          `Keep mine (${displayValue(c.property, c.mine, fields)})`)))));
  };
  ctx.onCleanup(model.on('ticket.conflicts.changed', drawConflicts));
  ctx.onCleanup(model.onAny((name) => { if (name.endsWith('.changed') && name !== 'ticket.conflicts.changed') drawConflicts(); }));
  drawConflicts();

  // --- conversation -----------------------------------------------------------------------------
  const conversation = h('ol', { class: 'conversation', 'aria-label': 'Conversation' });
  /** @param {Comment[]} list */
  const drawComments = (list) => {
    replace(conversation, list.map(renderComment));
    if (list.length === 0) conversation.append(h('li', { class: 'muted empty-conversation' }, 'No comments yet.'));
  };
  drawComments(comments);
  let commentCount = comments.length;

  // --- properties and composer ------------------------------------------------------------------
  const panel = propertiesPanel(model, { fields, isNew: false, onCleanup: ctx.onCleanup });
  panel.wrappers.set('subject', subjectField);
  const box = composer(model, { isNew: false, onSubmit: (s) => { void submit(s); }, onCleanup: ctx.onCleanup, wrappers: panel.wrappers });

  // Every change is persisted as a draft at once, so a lost session or a reload loses nothing.
  ctx.onCleanup(model.onAny((name) => {
    if (name.endsWith('.changed') && !model.saving) saveDraft(id, model.draft());
  }));
  ctx.onCleanup(model.on('ticket.requester_id.changed', drawMeta));

  const thread = h('div', { class: 'thread' }, conversation);
  const center = h('section', { class: 'ticket-main', 'aria-label': 'Ticket' },
    h('header', { class: 'ticket-header' }, h('h1', { class: 'visually-hidden' }, `Ticket #${id}`), subjectField, metaLine), notices, conflictBox,
    thread, errorBox, box.element);
  ctx.main.replaceChildren(h('div', { class: 'ticket-layout', 'data-ticket-id': id },
    panel.element, center, appsPanel('ticket_sidebar')));
  thread.scrollTop = thread.scrollHeight;

  // --- saving -----------------------------------------------------------------------------------
  /** @param {string} [status] */
  async function submit(status) {
    if (model.saving) return;
    clearAllFieldErrors(panel.wrappers);
    replace(errorBox);
    if (!status && !model.isDirty()) {
      toast('Nothing to submit: change a field or write a comment first.');
      return;
    }
    box.setBusy(true, 'Saving…');
    try {
      await model.save(async (patch) => {
        const data = await put(`/api/v2/tickets/${id}.json`, { ticket: patch });
        return data.ticket;
      }, { status });
      clearDraft(id);
      drawStatus();
      drawMeta();
      box.setBusy(false, '');
      toast(`Ticket #${id} updated`);
      await refreshComments();
    } catch (err) {
      box.setBusy(false, '');
      saveDraft(id, model.draft());
      if (err instanceof ApiError && err.status === 401) return; // sent to login; the draft is kept
      if (err instanceof ApiError && err.status === 422) {
        const unplaced = showFieldErrors(panel.wrappers, fieldErrorsFrom422(err.body), fields);
        replace(errorBox, h('div', { class: 'banner banner-error' },
          'The ticket was not saved. ', unplaced.length ? unplaced.join(' ') : 'Fix the highlighted fields.'));
      } else if (err instanceof SaveVetoedError) {
        replace(errorBox, h('div', { class: 'banner banner-error' }, err.message));
      } else {
        replace(errorBox, h('div', { class: 'banner banner-error' }, 'The ticket was not saved: ',
          err instanceof Error ? err.message : String(err)));
      }
    }
  }

  async function refreshComments() {
    const list = await fetchComments(id, ctx.signal);
    if (ctx.signal.aborted) return;
    if (list.length !== commentCount) {
      const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
      commentCount = list.length;
      drawComments(list);
      if (atBottom || list.at(-1)?.author_id === session.user?.id) thread.scrollTop = thread.scrollHeight;
    }
  }

  // --- live updates -----------------------------------------------------------------------------
  let refreshing = false;
  /** @type {number|null|undefined} */
  let queuedActor;
  /** @param {number|null} actorId */
  async function refresh(actorId) {
    if (refreshing || model.saving) { queuedActor = actorId; setTimeout(() => drain(), 300); return; }
    refreshing = true;
    try {
      const [fresh] = await Promise.all([fetchTicket(id, ctx.signal), refreshComments()]);
      if (ctx.signal.aborted) return;
      model.applyServer(fresh, { actorId, source: 'server' });
      drawStatus();
      drawMeta();
    } catch (err) {
      if (!ctx.signal.aborted && !(err instanceof ApiError && err.status === 401)) console.error('refresh failed', err);
    } finally {
      refreshing = false;
    }
  }
  function drain() {
    if (queuedActor === undefined) return;
    const actor = queuedActor;
    queuedActor = undefined;
    void refresh(actor);
  }
  ctx.onCleanup(onLive((type, ev) => {
    if (ev.ticket_id !== id) return;
    if (type === 'ticket.updated') void refresh(ev.actor_id ?? null);
    if (type === 'ticket.deleted' && !notices.querySelector('#ticket-deleted')) {
      notices.append(h('div', { class: 'banner banner-error', id: 'ticket-deleted', role: 'alert' },
        `${ev.actor_id != null ? userName(ev.actor_id) : 'Someone'} deleted this ticket. Your draft is kept in this tab, but it can no longer be saved.`));
      box.setBusy(true, 'Ticket deleted');
    }
  }));

  ctx.onKey((ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { void submit(); return true; }
    const target = /** @type {HTMLElement} */ (ev.target);
    const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(target?.tagName);
    if (!typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      if (ev.key === 'r') { model.set('comment.type', 'publicReply'); box.text.focus(); return true; }
      if (ev.key === 'n') { model.set('comment.type', 'internalNote'); box.text.focus(); return true; }
    }
    return false;
  });
}
