// The new ticket page: subject, description (the first comment, public or internal), the same
// properties panel as a ticket, and the new_ticket_sidebar apps panel. One POST creates it.
import { post, ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { TicketModel, fieldErrorsFrom422, SaveVetoedError } from '../ticket-model.js';
import { loadDirectory, ticketFields } from '../directory.js';
import { saveDraft, loadDraft, clearDraft } from '../drafts.js';
import { session } from '../session.js';
import { propertiesPanel, composer, showFieldErrors, clearAllFieldErrors } from '../ticket-form.js';
import { appsPanel, toast, loading } from '../ui.js';

/** @param {import('../app.js').PageContext} ctx */
export async function renderNewTicket(ctx) {
  ctx.setTitle('New ticket');
  ctx.main.append(loading());
  await loadDirectory();
  if (ctx.signal.aborted) return;
  const fields = ticketFields();
  const model = new TicketModel({ fields });
  /** @type {any} */ (window).zaffreTicket = model;
  ctx.onCleanup(() => { if (/** @type {any} */ (window).zaffreTicket === model) delete /** @type {any} */ (window).zaffreTicket; });
  const preset = Number(ctx.query.get('requester_id'));
  if (preset) model.set('requester_id', preset, { source: 'load' });
  const draft = loadDraft('new');
  if (draft) model.restoreDraft(draft);

  const subject = h('input', { id: 'new-ticket-subject', class: 'subject-input', type: 'text', placeholder: 'Subject',
    'aria-describedby': 'new-ticket-subject-error', value: String(model.get('subject') ?? '') });
  subject.addEventListener('input', () => model.set('subject', subject.value));
  ctx.onCleanup(model.on('ticket.subject.changed', (d) => { if (subject.value !== d.value) subject.value = String(d.value ?? ''); }));
  const subjectField = h('div', { class: 'field subject-field', 'data-field': 'subject' },
    h('label', { for: 'new-ticket-subject', class: 'visually-hidden' }, 'Subject'), subject,
    h('p', { class: 'field-error', id: 'new-ticket-subject-error', role: 'alert', hidden: true }));

  const panel = propertiesPanel(model, { fields, isNew: true, onCleanup: ctx.onCleanup });
  panel.wrappers.set('subject', subjectField);
  const errorBox = h('div', { class: 'save-errors', role: 'alert' });
  const box = composer(model, { isNew: true, onSubmit: (s) => { void submit(s); }, onCleanup: ctx.onCleanup, wrappers: panel.wrappers });
  ctx.onCleanup(model.onAny((name) => { if (name.endsWith('.changed') && !model.saving) saveDraft('new', model.draft()); }));

  ctx.main.replaceChildren(h('div', { class: 'ticket-layout new-ticket' },
    panel.element,
    h('section', { class: 'ticket-main', 'aria-label': 'New ticket' },
      h('header', { class: 'ticket-header' }, h('h1', { class: 'page-heading' }, 'New ticket'), subjectField),
      h('div', { class: 'thread new-ticket-body' }, box.element), errorBox),
    appsPanel('new_ticket_sidebar')));
  subject.focus();

  /** @param {string} [status] */
  async function submit(status) {
    if (model.saving) return;
    clearAllFieldErrors(panel.wrappers);
    replace(errorBox);
    if (model.get('requester_id') == null && session.user) {
      // Zendesk makes the submitting agent the requester when none is chosen; show it explicitly.
      model.set('requester_id', session.user.id, { source: 'submit' });
    }
    box.setBusy(true, 'Creating…');
    try {
      const ticket = await model.save(async (patch) => (await post('/api/v2/tickets.json', { ticket: patch })).ticket, { status });
      clearDraft('new');
      toast(`Ticket #${ticket.id} created`);
      ctx.navigate(`/tickets/${ticket.id}`, { replace: true });
    } catch (err) {
      box.setBusy(false);
      saveDraft('new', model.draft());
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.status === 422) {
        const unplaced = showFieldErrors(panel.wrappers, fieldErrorsFrom422(err.body), fields);
        replace(errorBox, h('div', { class: 'banner banner-error' }, 'The ticket was not created. ',
          unplaced.length ? unplaced.join(' ') : 'Fix the highlighted fields.'));
      } else {
        replace(errorBox, h('div', { class: 'banner banner-error' }, err instanceof SaveVetoedError ? err.message
          : `The ticket was not created: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
  }

  ctx.onKey((ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { void submit(); return true; }
    return false;
  });
}
