// A test app for client.request(): the browser tests call `window.send(options)`, which settles
// with {done: value} or {fail: value} so both outcomes can be inspected from outside.
window.client = ZAFClient.init(function (data) {
  window.registered = data;
  document.getElementById('state').textContent = 'registered';
});
window.send = function (options) {
  return window.client.request(options).then(
    function (value) { return { done: value === undefined ? null : value }; },
    function (value) { return { fail: value === undefined ? null : value }; });
};
