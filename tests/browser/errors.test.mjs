// Server-side validation and an expired session, as an agent meets them: a 422 shows next to the
// field it is about, and losing the session mid-reply sends the agent to sign in again without
// losing what they typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, login, someOpenTicket, customField, ADMIN_EMAIL, ADMIN_PASSWORD } from './harness.mjs';

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

test('a 422 from the server appears next to the field it concerns', async () => {
  const ticket = await someOpenTicket(server);
  const intField = await customField(server, 'integer');
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  const input = page.getByLabel(intField.title, { exact: true });
  await input.fill('abc');
  /** @type {number[]} */
  const statuses = [];
  page.on('response', (res) => { if (res.request().method() === 'PUT') statuses.push(res.status()); });
  await page.locator('#submit-button').click();
  const error = page.locator(`[data-field="custom_field_${intField.id}"] .field-error`);
  await error.waitFor({ state: 'visible' });
  assert.deepEqual(statuses, [422]);
  assert.ok((await error.textContent())?.trim(), 'the message is not empty');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.equal(await input.inputValue(), 'abc', 'the invalid input is kept for fixing');
  // Other fields show no error.
  assert.equal(await page.locator('.field-error:visible').count(), 1);
  // Nothing was written.
  const after422 = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  assert.equal(after422.updated_at, ticket.updated_at);
  // Fixing the value and submitting again succeeds and clears the error.
  await input.fill('12');
  await page.locator('#submit-button').click();
  await page.getByText(`Ticket #${ticket.id} updated`).waitFor();
  assert.equal(await error.isVisible(), false);
  const saved = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  assert.equal(Number(saved.custom_fields.find((/** @type {any} */ cf) => cf.id === intField.id)?.value), 12);
  await context.close();
});

test('an expired session sends the agent to sign in and keeps the draft', async () => {
  const ticket = await someOpenTicket(server);
  const { page, context } = await newPage(browser);
  await login(page, server.url, `/tickets/${ticket.id}`);
  await page.locator('#composer-body').waitFor();
  const newStatus = ticket.status === 'pending' ? 'hold' : 'pending';
  await page.getByLabel('Status', { exact: true }).selectOption(newStatus);
  await page.getByRole('button', { name: 'Internal note' }).click();
  await page.getByLabel('Comment', { exact: true }).fill('A long, careful reply I do not want to lose.');

  await context.clearCookies();
  await page.locator('#submit-button').click();
  await page.waitForURL(/\/login\?next=/);
  await page.locator('#session-expired').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('next'), `/tickets/${ticket.id}`);
  const unchanged = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  assert.equal(unchanged.status, ticket.status, 'nothing was saved without a session');

  await page.getByLabel('Email', { exact: true }).fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/tickets/${ticket.id}`);
  await page.locator('#draft-restored').waitFor();
  assert.equal(await page.getByLabel('Comment', { exact: true }).inputValue(), 'A long, careful reply I do not want to lose.');
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), newStatus);
  assert.equal(await page.getByRole('button', { name: 'Internal note' }).getAttribute('aria-pressed'), 'true');

  // Submitting now saves the restored draft, and the draft is gone afterwards.
  await page.locator('#submit-button').click();
  await page.getByText(`Ticket #${ticket.id} updated`).waitFor();
  const saved = (await server.api('GET', `/api/v2/tickets/${ticket.id}.json`)).ticket;
  assert.equal(saved.status, newStatus);
  const { comments } = await server.api('GET', `/api/v2/tickets/${ticket.id}/comments.json`);
  const last = comments.at(-1);
  assert.equal(last.public, false);
  assert.match(last.body ?? last.plain_body, /A long, careful reply/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await context.close();
});

test('creating a ticket without a description shows the 422 beside the description', async () => {
  const { page, context } = await newPage(browser);
  await login(page, server.url, '/tickets/new');
  await page.getByLabel('Subject', { exact: true }).fill('No description given');
  /** @type {number[]} */
  const statuses = [];
  page.on('response', (res) => { if (res.request().method() === 'POST' && res.url().includes('/api/v2/tickets')) statuses.push(res.status()); });
  await page.locator('#submit-button').click();
  const error = page.locator('[data-field="comment.text"] .field-error');
  await error.waitFor({ state: 'visible' });
  assert.deepEqual(statuses, [422]);
  assert.match(await error.textContent() ?? '', /\S/);
  assert.equal(new URL(page.url()).pathname, '/tickets/new', 'still on the form, with the subject kept');
  assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), 'No description given');
  await context.close();
});
