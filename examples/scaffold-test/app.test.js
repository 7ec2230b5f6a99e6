// Tests for the app `zaffre app new` creates, run headless in its ticket sidebar iframe:
//
//   zaffre app new "My App" --dir my-app
//   zaffre test my-app --script examples/scaffold-test/app.test.js \
//     --fixtures examples/fixtures/helpdesk.yaml --setting greeting=Hi
//
// `client` is the app's own ZAFClient; `assert`, `expect`, `waitFor` and `sleep` are the
// runner's helpers (docs/developing-apps.md, "Testing your app"). The app's DOM is `document`.

test('the app registered in the ticket sidebar', async ({ context }) => {
  assert.equal(context.location, 'ticket_sidebar');
  const metadata = await client.metadata();
  assert.equal(metadata.settings.greeting, 'Hi', 'the --setting reached the app');
  assert(!('api_token' in metadata.settings) || !metadata.settings.api_token,
    'a secure setting never reaches the browser');
});

test('it reads ticket.subject from the fixtures', async () => {
  const data = await client.get('ticket.subject');
  expect(data['ticket.subject']).toBe('The rocket will not launch');
});

test('it shows the subject and the greeting', async () => {
  await waitFor(() => document.getElementById('subject').textContent === 'The rocket will not launch');
  expect(document.getElementById('greeting').textContent).toBe('Hi');
});

test('it sets a tag and the ticket shows it', async () => {
  const before = (await client.get('ticket.tags'))['ticket.tags'];
  assert.includes(before, 'launch');
  await client.set('ticket.tags', before.concat('checked-by-test'));
  const after = (await client.get('ticket.tags'))['ticket.tags'];
  expect(after).toContain('checked-by-test');
  expect(after).toContain('launch');
});

test('the "Mark as pending" button sets the status', async () => {
  document.getElementById('pending').click();
  await waitFor(async () => (await client.get('ticket.status'))['ticket.status'] === 'pending');
  await waitFor(() => /pending/.test(document.getElementById('status').textContent));
});

test('an unknown path is an error', async () => {
  const error = await assert.rejects(client.get('ticket.no_such_thing'));
  assert.match(String(error.message), /no_such_thing/);
});
