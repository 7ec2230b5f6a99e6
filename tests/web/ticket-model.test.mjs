// Unit tests for web/assets/ticket-model.js, run in plain node (the model has no DOM dependency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TicketModel, SaveVetoedError, fieldErrorsFrom422, normalizeTags, sameValue } from '../../web/assets/ticket-model.js';

const FIELDS = [
  { id: 1, type: 'subject', title: 'Subject' },
  { id: 2, type: 'status', title: 'Status' },
  { id: 10, type: 'text', title: 'Order number' },
  { id: 11, type: 'checkbox', title: 'VIP' },
  { id: 12, type: 'integer', title: 'Seats' },
  { id: 13, type: 'tagger', title: 'Plan', custom_field_options: [{ name: 'Pro', value: 'pro' }] },
];

/** @returns {import('../../web/assets/ticket-model.js').ApiTicket} */
function ticket(overrides = {}) {
  return {
    id: 7, subject: 'Printer on fire', description: 'It burns', status: 'open', priority: 'high',
    type: 'incident', requester_id: 3, submitter_id: 3, assignee_id: 5, group_id: 2,
    organization_id: 1, tags: ['printer', 'fire'],
    custom_fields: [{ id: 10, value: 'A-1' }, { id: 11, value: false }, { id: 12, value: 4 }, { id: 13, value: 'pro' }],
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-02T00:00:00Z',
    ...overrides,
  };
}

/** Records every event the model emits. @param {TicketModel} model */
function record(model) {
  /** @type {Array<[string, any]>} */
  const events = [];
  model.onAny((name, detail) => events.push([name, detail]));
  return events;
}

test('loads a ticket and reads properties', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  assert.equal(m.id, 7);
  assert.equal(m.get('subject'), 'Printer on fire');
  assert.deepEqual(m.get('tags'), ['printer', 'fire']);
  assert.equal(m.get('custom_field_11'), false);
  assert.equal(m.get('custom_field_12'), 4);
  assert.equal(m.get('comment.type'), 'publicReply');
  assert.equal(m.isDirty(), false);
});

test('set emits exactly one change event per changed property and tracks dirtiness', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  const events = record(m);
  assert.equal(m.set('status', 'pending'), true);
  assert.equal(m.set('status', 'pending'), false, 'setting the same value again is a no-op');
  m.set('custom_field_10', 'B-2');
  m.set('tags', 'printer fire urgent');
  assert.deepEqual(events.map(([n]) => n), ['ticket.status.changed', 'ticket.custom_field_10.changed', 'ticket.tags.changed']);
  assert.deepEqual(events[0][1], { property: 'status', value: 'pending', previous: 'open', source: 'ui' });
  assert.deepEqual(m.dirtyProperties().sort(), ['custom_field_10', 'status', 'tags']);
  m.set('status', 'open', { source: 'app' });
  assert.equal(m.isDirty('status'), false, 'back to the saved value is clean again');
  assert.equal(events.at(-1)?.[1].source, 'app');
});

test('specific listeners receive only their event; unsubscribe works', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  /** @type {unknown[]} */
  const seen = [];
  const off = m.on('ticket.subject.changed', (d) => seen.push(d.value));
  m.set('subject', 'A');
  m.set('status', 'solved');
  off();
  m.set('subject', 'B');
  assert.deepEqual(seen, ['A']);
});

test('unknown and read-only properties are refused', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  assert.throws(() => m.set('custom_field_999', 'x'), /unknown/);
  assert.throws(() => m.set('id', 8), /read-only/);
});

test('buildPatch contains only changed properties plus the comment', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  assert.deepEqual(m.buildPatch(), {});
  m.set('status', 'pending');
  m.set('custom_field_12', 'abc');
  m.set('comment.type', 'internalNote');
  m.set('comment.text', 'Called the customer');
  assert.deepEqual(m.buildPatch(), {
    status: 'pending',
    custom_fields: [{ id: 12, value: 'abc' }],
    comment: { body: 'Called the customer', public: false },
  });
});

test('numeric custom fields parse valid input and keep invalid input for the server to judge', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('custom_field_12', '12');
  assert.equal(m.get('custom_field_12'), 12);
  m.set('custom_field_12', 'abc');
  assert.equal(m.get('custom_field_12'), 'abc');
});

test('server refresh updates clean properties and keeps local edits, recording a conflict', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('status', 'pending');
  const events = record(m);
  m.applyServer(ticket({ status: 'solved', subject: 'Printer still on fire' }), { actorId: 9 });
  assert.equal(m.get('subject'), 'Printer still on fire');
  assert.equal(m.get('status'), 'pending', 'the draft is kept');
  assert.deepEqual(events.map(([n]) => n), ['ticket.subject.changed', 'ticket.conflicts.changed']);
  assert.deepEqual(m.conflicts(), [{ property: 'status', mine: 'pending', theirs: 'solved', actorId: 9 }]);
  assert.equal(events[0][1].source, 'server');
  m.dismissConflict('status');
  assert.deepEqual(m.conflicts(), []);
  assert.equal(m.get('status'), 'pending');
});

test('a refresh that agrees with the local edit clears dirtiness without a conflict', () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('priority', 'urgent');
  m.applyServer(ticket({ priority: 'urgent' }));
  assert.equal(m.isDirty(), false);
  assert.deepEqual(m.conflicts(), []);
});

test('save runs hooks, sends one patch, clears the comment and emits lifecycle events', async () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('status', 'pending');
  m.set('comment.text', 'hello');
  const events = record(m);
  /** @type {any[]} */
  const sent = [];
  let hookSawPatch = null;
  m.addBeforeSave(async (ctx) => { hookSawPatch = ctx.patch; return true; });
  await m.save(async (patch) => { sent.push(patch); return ticket({ status: 'pending', updated_at: '2026-01-03T00:00:00Z' }); });
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0], { status: 'pending', comment: { body: 'hello', public: true } });
  assert.deepEqual(hookSawPatch, sent[0]);
  assert.equal(m.isDirty(), false);
  assert.equal(m.get('comment.text'), '');
  assert.equal(m.get('updated_at'), '2026-01-03T00:00:00Z');
  const names = events.map(([n]) => n);
  assert.equal(names[0], 'ticket.submit.start');
  assert.ok(names.includes('ticket.comment.text.changed'));
  assert.deepEqual(names.slice(-2), ['ticket.submit.done', 'ticket.submit.always']);
  assert.ok(!names.includes('ticket.status.changed'), 'status did not change again on save');
});

test('"submit as" sets the status before saving', async () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  /** @type {any} */
  let sent = null;
  await m.save(async (patch) => { sent = patch; return ticket({ status: 'solved' }); }, { status: 'solved' });
  assert.deepEqual(sent, { status: 'solved' });
  assert.equal(m.get('status'), 'solved');
});

test('a hook veto stops the save before anything is sent', async () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('subject', 'changed');
  const events = record(m);
  let called = false;
  m.addBeforeSave(() => 'Fill in the order number first');
  m.addBeforeSave(async () => true);
  await assert.rejects(m.save(async () => { called = true; return ticket(); }), (err) => {
    assert.ok(err instanceof SaveVetoedError);
    assert.equal(err.message, 'Fill in the order number first');
    return true;
  });
  assert.equal(called, false);
  assert.equal(m.isDirty('subject'), true, 'the edit survives a veto');
  assert.deepEqual(events.map(([n]) => n), ['ticket.submit.start', 'ticket.submit.fail', 'ticket.submit.always']);
});

test('a hook that never answers vetoes after the timeout; false vetoes too', async () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket(), hookTimeoutMs: 20 });
  const off = m.addBeforeSave(() => new Promise(() => {}));
  await assert.rejects(m.save(async () => ticket()), SaveVetoedError);
  off();
  m.addBeforeSave(() => false);
  await assert.rejects(m.save(async () => ticket()), SaveVetoedError);
});

test('a failed send keeps every edit and emits fail', async () => {
  const m = new TicketModel({ fields: FIELDS, ticket: ticket() });
  m.set('custom_field_12', 'abc');
  m.set('comment.text', 'draft');
  await assert.rejects(m.save(async () => { throw new Error('422'); }), /422/);
  assert.equal(m.get('custom_field_12'), 'abc');
  assert.equal(m.get('comment.text'), 'draft');
  assert.equal(m.saving, false);
});

test('new tickets send every property that is set', () => {
  const m = new TicketModel({ fields: FIELDS });
  assert.equal(m.isNew, true);
  m.set('subject', 'Hi');
  m.set('requester_id', '3');
  m.set('custom_field_13', 'pro');
  m.set('comment.text', 'first');
  assert.deepEqual(m.buildPatch(), {
    subject: 'Hi', status: 'new', requester_id: 3,
    custom_fields: [{ id: 13, value: 'pro' }], comment: { body: 'first', public: true },
  });
});

test('drafts round-trip into a fresh model', () => {
  const a = new TicketModel({ fields: FIELDS, ticket: ticket() });
  a.set('status', 'hold');
  a.set('comment.type', 'internalNote');
  a.set('comment.text', 'keep me');
  const draft = JSON.parse(JSON.stringify(a.draft()));
  const b = new TicketModel({ fields: FIELDS, ticket: ticket() });
  b.restoreDraft(draft);
  assert.equal(b.get('status'), 'hold');
  assert.equal(b.get('comment.text'), 'keep me');
  assert.equal(b.get('comment.type'), 'internalNote');
  assert.deepEqual(b.buildPatch(), a.buildPatch());
});

test('422 details map to properties, custom fields by field_key', () => {
  const errors = fieldErrorsFrom422({
    error: 'RecordInvalid', description: 'Record validation errors',
    details: {
      status: [{ description: 'Status: is not valid', error: 'InvalidValue' }],
      base: [{ description: 'Seats must be a number', error: 'InvalidValue', field_key: 12 }],
      comment: [{ description: 'Comment: is blank', error: 'BlankValue' }],
    },
  });
  assert.deepEqual(Object.fromEntries(errors), {
    status: ['Status: is not valid'], custom_field_12: ['Seats must be a number'], 'comment.text': ['Comment: is blank'],
  });
  assert.deepEqual(Object.fromEntries(fieldErrorsFrom422({ error: 'X', description: 'Oops' })), { base: ['Oops'] });
  assert.deepEqual(Object.fromEntries(fieldErrorsFrom422({ error: 'RecordInvalid', details: {
    description: [{ description: 'Description: cannot be blank', error: 'BlankValue' }] } })),
  { 'comment.text': ['Description: cannot be blank'] }, 'a new ticket\'s description is typed in the composer');
});

test('value helpers', () => {
  assert.deepEqual(normalizeTags(' VIP, billing  vip new Tag'), ['vip', 'billing', 'new', 'tag']);
  assert.ok(sameValue('', null));
  assert.ok(sameValue(12, '12'));
  assert.ok(sameValue(['a', 'b'], ['b', 'a']));
  assert.ok(!sameValue(['a'], ['a', 'b']));
  assert.ok(!sameValue(0, null));
});
