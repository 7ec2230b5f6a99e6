// A test app with no behaviour of its own: the browser tests drive `window.client` from outside
// and read what it received from `window.seen`.
window.seen = [];
window.client = ZAFClient.init(function (data) {
  window.registeredAt = performance.timeOrigin + performance.now();
  window.registered = data;
  document.getElementById('state').textContent = 'registered';
});
window.listen = function (name) {
  window.client.on(name, function (message) { window.seen.push([name, message === undefined ? null : message]); });
};
// Lifecycle events may come right after registration, before a test could subscribe.
['app.activated', 'app.deactivated', 'app.expanded', 'app.collapsed', 'pane.activated', 'pane.deactivated',
  'instance.created', 'instance.registered', 'window.resize'].forEach(window.listen);
