// Unit tests for zaffre's ZAF client (web/sdk/zaf_sdk.js), run in plain node: the script is
// evaluated in a fresh VM context whose `window.parent` is a fake host recording every post.
// Envelopes are compared as exact JSON strings, because the host (and Zendesk's) parse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const SOURCE = readFileSync(new URL('../../web/sdk/zaf_sdk.js', import.meta.url), 'utf8');
const HOST = 'http://localhost:4567';

/**
 * Loads the SDK into a new window whose parent records posts.
 * @param {{search?: string, hash?: string}} [url]
 */
function load(url = { search: `?origin=${encodeURIComponent(HOST)}&app_guid=g1` }) {
  /** @type {Array<{msg: any, target: string}>} */
  const posts = [];
  const parent = { postMessage: (/** @type {any} */ msg, /** @type {string} */ target) => { posts.push({ msg, target }); } };
  /** @type {Array<(ev: any) => void>} */
  const listeners = [];
  /** @type {Array<{fn: Function, ms: number}>} */
  const timers = [];
  const win = {
    parent,
    addEventListener: (/** @type {string} */ type, /** @type {(ev: any) => void} */ fn) => { if (type === 'message') listeners.push(fn); },
  };
  const sandbox = {
    window: win, location: { search: url.search ?? '', hash: url.hash ?? '' }, console,
    setTimeout: (/** @type {Function} */ fn, /** @type {number} */ ms) => { timers.push({ fn, ms }); return timers.length; },
    clearTimeout: () => {},
  };
  vm.runInNewContext(SOURCE, sandbox);
  /** @type {any} */
  const ZAFClient = /** @type {any} */ (win).ZAFClient;
  return {
    ZAFClient, parent, posts, timers,
    /** Every post so far, as sent (strings stay strings). */
    raw: () => posts.map((p) => p.msg),
    /** Posts since the last call. */
    take() { return posts.splice(0).map((p) => p.msg); },
    /**
     * Delivers a message from the host (or from someone else).
     * @param {any} data @param {{origin?: string, source?: any}} [from]
     */
    deliver(data, from = {}) {
      const ev = { data: typeof data === 'string' ? data : JSON.stringify(data), origin: from.origin ?? HOST,
        source: from.source === undefined ? parent : from.source };
      for (const l of listeners) l(ev);
    },
    /** @param {any} data @param {{origin?: string, source?: any}} [from] */
    deliverObject(data, from = {}) {
      const ev = { data, origin: from.origin ?? HOST, source: from.source === undefined ? parent : from.source };
      for (const l of listeners) l(ev);
    },
  };
}

/** Values from the VM have another realm's prototypes: compare their JSON. @param {any} a @param {any} b */
const same = (a, b) => assert.deepEqual(plain(a), plain(b));
/** @param {any} x */
const plain = (x) => (x === undefined ? x : JSON.parse(JSON.stringify(x)));

const tick = () => new Promise((r) => setImmediate(r));

const REGISTERED = { key: 'zaf.app.registered', message: {
  metadata: { appId: 1, installationId: 2, name: 'A', version: '1.0.0', settings: { greeting: 'Hi' }, plan: { name: 'zaffre' } },
  context: { instanceGuid: 'g1', product: 'support', location: 'ticket_sidebar', account: { subdomain: 'demo' }, ticketId: 7 },
} };

/** A registered client, with the handshake and flush already taken. */
function registered() {
  const env = load();
  const client = env.ZAFClient.init();
  env.deliver(REGISTERED);
  env.take();
  return { ...env, client };
}

test('init needs origin and app_guid; the query wins over the hash, each key separately', () => {
  assert.equal(load({ search: '' }).ZAFClient.init(), false);
  assert.equal(load({ search: `?origin=${encodeURIComponent(HOST)}` }).ZAFClient.init(), false);
  const viaHash = load({ search: '?app_guid=q1', hash: `#origin=${encodeURIComponent(HOST)}&app_guid=h1` });
  const c = viaHash.ZAFClient.init();
  assert.equal(c._origin, HOST);
  assert.equal(c._appGuid, 'q1');
  assert.equal(c._instanceGuid, 'q1');
  assert.equal(viaHash.posts[0].target, HOST);
  const plus = load({ search: '?origin=http%3A%2F%2Fa.test&app_guid=a+b' }).ZAFClient.init();
  assert.equal(plus._appGuid, 'a b');
});

test('the handshake is the only message before registration; the queue flushes in order', () => {
  const env = load();
  const client = env.ZAFClient.init();
  same(env.raw(), ['{"key":"iframe.handshake","message":{"version":"zaffre-1"},"appGuid":"g1","instanceGuid":"g1"}']);
  void client.get('ticket.subject');
  client.on('ticket.subject.changed', () => {});
  assert.equal(env.posts.length, 1);
  env.take();
  env.deliver(REGISTERED);
  same(env.take(), [
    '{"key":"iframe.on:context.updated","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"id":1,"request":"get","params":["ticket.subject"],"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.on:ticket.subject.changed","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
  ]);
  assert.ok(env.posts.every((p) => p.target === HOST));
});

test('the init callback gets {metadata, context} with this = client; a second registration is ignored', async () => {
  const env = load();
  /** @type {any[]} */
  const calls = [];
  const client = env.ZAFClient.init(/** @this {any} @param {any} data */ function (data) { calls.push([this, data]); });
  void client.get('a');
  env.deliver(REGISTERED);
  assert.equal(calls.length, 1);
  assert.equal(calls[0][0], client);
  same(calls[0][1], REGISTERED.message);
  same(client._metadata, REGISTERED.message.metadata);
  same(client._context, REGISTERED.message.context);
  assert.equal(client.ready, true);
  env.take();
  env.deliver(REGISTERED);
  assert.equal(calls.length, 1);
  same(env.take(), []);
  same(await client.metadata(), REGISTERED.message.metadata);
  same(await client.context(), REGISTERED.message.context);
});

test('get: envelopes, single and bulk results, singular errors reject', async () => {
  const { client, take, deliver } = registered();
  const one = client.get('ticket.subject');
  same(take(), ['{"id":1,"request":"get","params":["ticket.subject"],"appGuid":"g1","instanceGuid":"g1"}']);
  deliver({ id: 1, result: { 'ticket.subject': 'Help, my printer is on fire', errors: {} } });
  same(await one, { 'ticket.subject': 'Help, my printer is on fire', errors: {} });

  const bad = client.get('ticket.foo');
  take();
  deliver({ id: 2, result: { errors: { 'ticket.foo': { name: 'APIUnavailable', message: 'not here', path: 'ticket.foo' } } } });
  await assert.rejects(bad, (/** @type {any} */ e) => e.name === 'APIUnavailable' && e.message === '"ticket.foo" not here');

  const bulk = client.get(['a', 'b']);
  same(take(), ['{"id":3,"request":"get","params":["a","b"],"appGuid":"g1","instanceGuid":"g1"}']);
  deliver({ id: '3', result: { a: 1, errors: { b: { message: 'nope' } } } });
  same(await bulk, { a: 1, errors: { b: { message: 'nope' } } });

  const whole = client.get('x');
  deliver({ id: 4, error: { name: 'Error', message: 'boom' } });
  await assert.rejects(whole, /boom/);
  assert.throws(() => client.get(1));
  assert.throws(() => client.get('a', 'b'));
});

test('set and invoke: parameter shapes and validation', async () => {
  const { client, take, deliver } = registered();
  void client.set('ticket.type', 'task');
  void client.set({ a: 1, b: 2 });
  void client.invoke('resize', { width: '100%', height: '450px' });
  void client.invoke({ 'ticket.comment.appendText': ['My printer is on fire'], 'ticketFields:priority.hide': [] });
  void client.invoke('instances.create', { location: 'modal', url: 'assets/modal.html' });
  same(take(), [
    '{"id":1,"request":"set","params":{"ticket.type":"task"},"appGuid":"g1","instanceGuid":"g1"}',
    '{"id":2,"request":"set","params":{"a":1,"b":2},"appGuid":"g1","instanceGuid":"g1"}',
    '{"id":3,"request":"invoke","params":{"resize":[{"width":"100%","height":"450px"}]},"appGuid":"g1","instanceGuid":"g1"}',
    '{"id":4,"request":"invoke","params":{"ticket.comment.appendText":["My printer is on fire"],"ticketFields:priority.hide":[]},"appGuid":"g1","instanceGuid":"g1"}',
    '{"id":5,"request":"invoke","params":{"instances.create":[{"location":"modal","url":"assets/modal.html"}]},"appGuid":"g1","instanceGuid":"g1"}',
  ]);
  assert.throws(() => client.set('a'));
  assert.throws(() => client.set([1]));
  assert.throws(() => client.invoke({ a: [1] }));
  assert.throws(() => client.invoke(5));
  await assert.rejects(client.invoke({ 'instances.create': ['x'], resize: ['y'] }), /Illegal bulk call/);
  same(take(), []);
  const s = client.set('ticket.form.id', -1);
  deliver({ id: 6, result: { errors: { 'ticket.form.id': { name: 'Error', message: 'Invalid Ticket Form ID', path: 'ticket.form.id' } } } });
  await assert.rejects(s, /"ticket.form.id" Invalid Ticket Form ID/);
});

test('RPCs time out after five minutes, except instances.create', async () => {
  const env = registered();
  const p = env.client.get('a');
  void env.client.invoke('instances.create', { location: 'modal', url: 'x' });
  same(env.timers.map((t) => t.ms), [300000]);
  env.timers[0].fn();
  await assert.rejects(p, /Invocation request timeout/);
});

test('inbound messages count only from window.parent at the exact origin', async () => {
  const env = load();
  const client = env.ZAFClient.init();
  env.deliver(REGISTERED, { origin: 'http://localhost:4568' });
  env.deliver(REGISTERED, { origin: `${HOST}/` });
  env.deliver(REGISTERED, { source: { postMessage() {} } });
  env.deliver('not json {');
  env.deliverObject(null);
  assert.equal(client.ready, false);
  env.deliverObject(REGISTERED); // objects are accepted as well as JSON strings
  assert.equal(client.ready, true);
  let got = 0;
  client.on('ping', () => { got++; });
  env.deliver({ key: 'zaf.ping' }, { origin: 'http://evil.test' });
  env.deliver({ key: 'ping' });
  assert.equal(got, 0);
  env.deliver({ key: 'zaf.ping' });
  assert.equal(got, 1);
});

test('on, off, has and events: handlers get only the message; counts are sent', () => {
  const { client, take, deliver } = registered();
  /** @type {any[]} */
  const seen = [];
  const a = (/** @type {any} */ m) => seen.push(['a', m]);
  const b = (/** @type {any} */ m) => seen.push(['b', m]);
  assert.equal(client.off('ticket.subject.changed', a), false);
  client.on('ticket.subject.changed', a);
  client.on('ticket.subject.changed', b);
  client.on('app.registered', () => {});
  assert.equal(client.has('ticket.subject.changed', a), true);
  deliver({ key: 'zaf.ticket.subject.changed', message: 'New subject' });
  same(seen, [['a', 'New subject'], ['b', 'New subject']]);
  client.off('ticket.subject.changed', a);
  client.off('ticket.subject.changed', a);
  assert.equal(client.has('ticket.subject.changed', a), false);
  same(take(), [
    '{"key":"iframe.on:ticket.subject.changed","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.on:ticket.subject.changed","message":{"subscriberCount":2},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.off:ticket.subject.changed","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.off:ticket.subject.changed","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
  ]);
  deliver({ key: 'zaf.context.updated', message: { instanceGuid: 'g1', location: 'ticket_sidebar', ticketId: 8 } });
  assert.equal(client._context.ticketId, 8);
});

test('trigger, postMessage and instance clients', async () => {
  const { client, take, deliver } = registered();
  client.trigger('foo', { a: 1 });
  client.postMessage('custom', 5);
  const modal = client.instance('m1');
  assert.equal(client.instance('m1'), modal);
  assert.equal(client.instance('g1'), client);
  assert.equal(modal._appGuid, 'g1');
  assert.equal(modal.ready, true);
  modal.trigger('hello', { a: 1 });
  /** @type {any[]} */
  const closes = [];
  modal.on('modal.close', (/** @type {any} */ m) => closes.push(m));
  void modal.invoke('destroy');
  same(take(), [
    '{"key":"iframe.trigger:foo","message":{"a":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"custom","message":5,"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.trigger:hello","message":{"a":1},"appGuid":"g1","instanceGuid":"m1"}',
    '{"key":"iframe.on:modal.close","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"m1"}',
    '{"id":1,"request":"invoke","params":{"destroy":[]},"appGuid":"g1","instanceGuid":"m1"}',
  ]);
  let topGot = 0;
  client.on('modal.close', () => { topGot++; });
  take();
  deliver({ key: 'zaf.modal.close', instanceGuid: 'm1' });
  deliver({ key: 'zaf.modal.close', instanceGuid: 'unknown' });
  same(closes, [undefined]);
  assert.equal(topGot, 0);
  const ctx = modal.context();
  same(take(), ['{"id":2,"request":"get","params":["instances.m1"],"appGuid":"g1","instanceGuid":"m1"}']);
  deliver({ id: 2, result: { 'instances.m1': { instanceGuid: 'm1', location: 'modal' }, errors: {} } });
  same(await ctx, { instanceGuid: 'm1', location: 'modal' });
  same(await modal.metadata(), REGISTERED.message.metadata);
});

test('hooks: every handler must succeed; the reply is an object without id or instanceGuid', async () => {
  const { client, posts, deliver } = registered();
  const replies = async () => { await tick(); await tick(); return posts.splice(0).map((p) => p.msg); };
  deliver({ key: 'zaf.ticket.save', needsReply: true });
  same(await replies(), [{ key: 'iframe.reply:ticket.save', appGuid: 'g1' }]);

  client.on('ticket.save', () => true);
  /** @type {any[]} */
  const args = [];
  client.on('ticket.save', (/** @type {any[]} */ ...a) => { args.push(a); return Promise.resolve(false); });
  posts.splice(0);
  deliver({ key: 'zaf.ticket.save', needsReply: true, message: { x: 1 } });
  same(await replies(), [{ key: 'iframe.reply:ticket.save', appGuid: 'g1' }]);
  same(args, [[]]);

  for (const [veto, msg] of /** @type {Array<[() => any, any]>} */ ([
    [() => false, false], [() => 'Not allowed', 'Not allowed'], [() => new Error('bad'), 'bad'],
    [() => { throw new Error('thrown'); }, 'thrown'], [() => Promise.reject(new Error('rejected')), 'rejected'],
    [() => Promise.reject('polite'), 'polite'],
  ])) {
    const c = registered();
    c.client.on('ticket.save', () => undefined);
    c.client.on('ticket.save', veto);
    c.posts.splice(0);
    c.deliver({ key: 'zaf.ticket.save', needsReply: true });
    await tick(); await tick();
    same(c.posts.map((p) => p.msg), [{ key: 'iframe.reply:ticket.save', appGuid: 'g1', error: { msg } }]);
  }

  // While a reply is pending, the same hook again is dropped (no second answer).
  const slow = registered();
  /** @type {(v?: any) => void} */
  let release = () => {};
  slow.client.on('ticket.save', () => new Promise((r) => { release = r; }));
  slow.posts.splice(0);
  slow.deliver({ key: 'zaf.ticket.save', needsReply: true });
  slow.deliver({ key: 'zaf.ticket.save', needsReply: true });
  release();
  await tick(); await tick();
  assert.equal(slow.posts.length, 1);
});

test('request: subscribe done and fail, post the options, settle with responseArgs[0], unsubscribe', async () => {
  const { client, take, deliver } = registered();
  const p = client.request('/api/v2/users/me.json');
  same(take(), [
    '{"key":"iframe.on:request:1.done","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.on:request:1.fail","message":{"subscriberCount":1},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"request:1","message":{"url":"/api/v2/users/me.json"},"appGuid":"g1","instanceGuid":"g1"}',
  ]);
  deliver({ key: 'zaf.request:1.done', message: { responseArgs: [{ user: { id: 1 } }, 'success'] } });
  same(await p, { user: { id: 1 } });
  same(take(), [
    '{"key":"iframe.off:request:1.fail","message":{"subscriberCount":0},"appGuid":"g1","instanceGuid":"g1"}',
    '{"key":"iframe.off:request:1.done","message":{"subscriberCount":0},"appGuid":"g1","instanceGuid":"g1"}',
  ]);
  const f = client.request({ url: '/x', type: 'POST' });
  deliver({ key: 'zaf.request:2.fail', message: { responseArgs: [{ status: 404 }] } });
  await assert.rejects(f, (/** @type {any} */ e) => e.status === 404);
});
