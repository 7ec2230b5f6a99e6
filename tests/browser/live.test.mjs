// Live updates: a change made elsewhere (here: the REST API) shows up on an open ticket page
// without a reload, and never overwrites a field the agent is editing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, someOpenTicket, waitFor } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a REST API change appears on the open ticket page without reload', async (t) => {
  const ticket = await someOpenTicket(server);
  const { page, context, errors } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  await waitFor(() => page.locator('#live-status.up').count(), { message: 'the event stream connects' });
  // Mark the page so a reload would be noticed.
  await page.evaluate(() => { /** @type {any} */ (window).__noReload = true; });

  const newPriority = ticket.priority === 'urgent' ? 'low' : 'urgent';
  await server.api('PUT', `/api/v2/tickets/${ticket.id}.json`, {
    ticket: { subject: 'Changed through the API', priority: newPriority, comment: { body: 'Reply from the API', public: true } },
  });
  const started = Date.now();
  await waitFor(async () => (await page.getByLabel('Subject', { exact: true }).inputValue()) === 'Changed through the API',
    { timeoutMs: 5000, message: 'the subject updates in place' });
  const elapsed = Date.now() - started;
  t.diagnostic(`the change showed after ${elapsed} ms`);
  assert.equal(await page.getByLabel('Priority', { exact: true }).inputValue(), newPriority);
  await page.locator('.conversation .comment', { hasText: 'Reply from the API' }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true, 'no reload happened');
  assert.ok(elapsed < 5000, `update took ${elapsed} ms`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a remote change to a field with an unsaved local edit keeps the draft and shows a notice', async () => {
  const ticket = await someOpenTicket(server);
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  await waitFor(() => page.locator('#live-status.up').count(), { message: 'the event stream connects' });

  const current = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  const mine = current.status === 'hold' ? 'open' : 'hold';
  const theirs = current.status === 'solved' ? 'pending' : 'solved';
  await page.getByLabel('Status', { exact: true }).selectOption(mine);
  await page.getByLabel('Comment', { exact: true }).fill('half-written reply');

  await server.api('PUT', `/api/v2/tickets/${ticket.id}.json`, { ticket: { status: theirs, tags: [...current.tags, 'remote_tag'] } });

  const notice = page.locator('.conflict[data-conflict="status"]');
  await notice.waitFor({ timeout: 5000 });
  const text = await notice.textContent() ?? '';
  assert.match(text, /Admin|changed Status to/);
  assert.match(text, new RegExp(`changed Status to ${theirs === 'solved' ? 'Solved' : 'Pending'} while you were editing`));
  // The untouched field (tags) followed the server; the edited one kept the draft.
  await page.locator('.tag', { hasText: 'remote_tag' }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), mine);
  assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), 'half-written reply');

  // "Use theirs" takes the server value and clears the notice.
  await notice.getByRole('button', { name: 'Use theirs' }).click();
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), theirs);
  assert.equal(await page.locator('.conflict').count(), 0);
  await context.close();
});

test('a change through the ticket model (as an app would make it) updates every control once', async () => {
  const ticket = await someOpenTicket(server);
  const intField = (await server.api('GET', '/api/v2/ticket_fields.json')).ticket_fields
    .find((/** @type {any} */ f) => f.type === 'integer' && f.active !== false);
  const { page, context, errors } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  const events = await page.evaluate((fieldId) => {
    const model = /** @type {any} */ (window).zaffreTicket;
    /** @type {string[]} */
    const seen = [];
    model.onAny((/** @type {string} */ name) => seen.push(name));
    model.set('status', 'hold', { source: 'app' });
    model.set('subject', 'Set by an app', { source: 'app' });
    model.set(`custom_field_${fieldId}`, '7', { source: 'app' });
    model.set('comment.text', 'Drafted by an app', { source: 'app' });
    return seen;
  }, intField.id);
  assert.deepEqual(events, ['ticket.status.changed', 'ticket.subject.changed',
    `ticket.custom_field_${intField.id}.changed`, 'ticket.comment.text.changed']);
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'hold');
  assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), 'Set by an app');
  assert.equal(await page.getByLabel(intField.title, { exact: true }).inputValue(), '7');
  assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), 'Drafted by an app');
  assert.equal(await page.locator('#submit-button').textContent(), 'Submit as On-hold');
  // And typing in a control reaches the model.
  await page.getByLabel('Subject', { exact: true }).fill('Typed by the agent');
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).zaffreTicket.get('subject')), 'Typed by the agent');
  assert.deepEqual(errors, []);
  await context.close();
});
