// zaffre's headless test runner, inserted first into an app's pages only while `zaffre test` runs
// (crates/zaffre-server/src/apptest.rs serves it after `window.__zaffreTest = {location, timeout,
// script}`). It notes the client the app makes with `ZAFClient.init()`, waits for the page to load
// and the client to be registered, and, in the iframe at the requested location only (the first to
// claim the run), loads the developer's script, runs its `test(name, fn)` cases one after another
// and POSTs each result to its own origin, where the CLI prints them. A classic script: it must run
// before the SDK's script tag defines `ZAFClient`.
(function () {
  'use strict';

  /** @type {{location: string, timeout: number, script: string}} */
  var config = /** @type {any} */ (window).__zaffreTest;
  var win = /** @type {any} */ (window);

  /** The client the app made first; the tests use the same one. @type {any} */
  var appClient = null;
  /** @type {any} */
  var sdk;
  // The SDK assigns `window.ZAFClient = {init}`: wrap `init` as it arrives to see the app's client.
  Object.defineProperty(window, 'ZAFClient', {
    configurable: true,
    get: function () { return sdk; },
    set: function (value) {
      sdk = value;
      if (value && typeof value.init === 'function') {
        var init = value.init;
        value.init = function () {
          var client = init.apply(this, /** @type {any} */ (arguments));
          if (client && !appClient) appClient = client;
          return client;
        };
      }
    },
  });

  /** @type {Array<{name: string, fn: Function}>} */
  var tests = [];
  var claimed = false;
  /** Page errors seen before this iframe claimed the run. @type {string[]} */
  var earlyErrors = [];
  /** Reports go out one at a time so they arrive in order. @type {Promise<any>} */
  var sending = Promise.resolve();

  /** @param {any} event */
  function report(event) {
    sending = sending.then(function () {
      return fetch('/__zaffre/test/report', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
      }).catch(function () { /* the CLI has gone: nothing to tell */ });
    });
    return sending;
  }

  /** @param {any} error */
  function describe(error) {
    if (error && typeof error === 'object' && 'message' in error) {
      return (error.name && error.name !== 'Error' ? error.name + ': ' : '') + String(error.message);
    }
    return String(error);
  }

  /** @param {string} message */
  function pageError(message) {
    if (claimed) report({ event: 'error', message: message });
    else earlyErrors.push(message);
  }
  window.addEventListener('error', function (e) {
    pageError(e.error ? describe(e.error) : String(e.message) + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    pageError('unhandled rejection: ' + describe(e.reason));
  });

  // ---- what test scripts use ----

  /** @param {any} v */
  function show(v) {
    if (typeof v === 'string') return JSON.stringify(v);
    try {
      var text = JSON.stringify(v);
      return text === undefined ? String(v) : text;
    } catch (e) {
      return String(v);
    }
  }

  /** JSON with sorted keys, for structural equality. @param {any} v @returns {string} */
  function canonical(v) {
    if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
    if (v && typeof v === 'object') {
      return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + canonical(v[k]); }).join(',') + '}';
    }
    return v === undefined ? 'undefined' : JSON.stringify(v);
  }

  /** @param {string} message */
  function fail(message) {
    var err = new Error(message);
    err.name = 'AssertionError';
    throw err;
  }

  /**
   * `assert(value, message?)` and its methods: equal (===), notEqual, deepEqual (structure),
   * match (RegExp), includes (array or string), rejects (a promise or async function), fail.
   * @param {any} value @param {string} [message]
   */
  function assert(value, message) {
    if (!value) fail(message || 'expected a truthy value, got ' + show(value));
  }
  assert.ok = assert;
  /** @param {any} actual @param {any} expected @param {string} [message] */
  assert.equal = function (actual, expected, message) {
    if (actual !== expected) fail(message || 'expected ' + show(expected) + ', got ' + show(actual));
  };
  /** @param {any} actual @param {any} unexpected @param {string} [message] */
  assert.notEqual = function (actual, unexpected, message) {
    if (actual === unexpected) fail(message || 'expected anything but ' + show(unexpected));
  };
  /** @param {any} actual @param {any} expected @param {string} [message] */
  assert.deepEqual = function (actual, expected, message) {
    if (canonical(actual) !== canonical(expected)) fail(message || 'expected ' + show(expected) + ', got ' + show(actual));
  };
  /** @param {string} actual @param {RegExp} pattern @param {string} [message] */
  assert.match = function (actual, pattern, message) {
    if (!pattern.test(String(actual))) fail(message || 'expected ' + show(actual) + ' to match ' + String(pattern));
  };
  /** @param {any[]|string} collection @param {any} item @param {string} [message] */
  assert.includes = function (collection, item, message) {
    if (!collection || collection.indexOf(item) < 0) fail(message || 'expected ' + show(collection) + ' to include ' + show(item));
  };
  /** @param {Promise<any>|(() => Promise<any>)} promise @param {string} [message] @returns {Promise<any>} */
  assert.rejects = function (promise, message) {
    var p = typeof promise === 'function' ? Promise.resolve().then(promise) : promise;
    return p.then(
      function () { fail(message || 'expected a rejection'); },
      function (/** @type {any} */ error) { return error; });
  };
  /** @param {string} [message] */
  assert.fail = function (message) { fail(message || 'failed'); };

  /**
   * `expect(actual).toBe(x)`, `.toEqual(x)`, `.toContain(x)`, `.toMatch(re)`, `.toBeTruthy()`,
   * `.toBeFalsy()`, each also under `.not`.
   * @param {any} actual
   */
  function expect(actual) {
    /** @param {boolean} negate */
    function matchers(negate) {
      /** @param {boolean} pass @param {string} what */
      function check(pass, what) {
        if (pass === negate) fail('expected ' + show(actual) + (negate ? ' not ' : ' ') + what);
      }
      return {
        /** @param {any} x */
        toBe: function (x) { check(actual === x, 'to be ' + show(x)); },
        /** @param {any} x */
        toEqual: function (x) { check(canonical(actual) === canonical(x), 'to equal ' + show(x)); },
        /** @param {any} x */
        toContain: function (x) { check(!!actual && actual.indexOf(x) >= 0, 'to contain ' + show(x)); },
        /** @param {RegExp} re */
        toMatch: function (re) { check(re.test(String(actual)), 'to match ' + String(re)); },
        toBeTruthy: function () { check(!!actual, 'to be truthy'); },
        toBeFalsy: function () { check(!actual, 'to be falsy'); },
      };
    }
    var m = /** @type {any} */ (matchers(false));
    m.not = matchers(true);
    return m;
  }

  /** @param {number} ms @returns {Promise<void>} */
  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  /**
   * Calls `fn` until it returns a truthy value (or a promise of one) without throwing; resolves
   * with that value, or rejects with the last error after `timeout` ms (default 5000).
   * @param {() => any} fn @param {{timeout?: number, interval?: number}} [options]
   */
  async function waitFor(fn, options) {
    var timeout = (options && options.timeout) || 5000;
    var interval = (options && options.interval) || 50;
    var deadline = Date.now() + timeout;
    /** @type {any} */
    var last = null;
    for (;;) {
      try {
        var value = await fn();
        if (value) return value;
        last = null;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        fail('waitFor: still not true after ' + timeout + ' ms' + (last ? ': ' + describe(last) : ''));
      }
      await sleep(interval);
    }
  }

  /** @param {string} name @param {Function} fn */
  function test(name, fn) {
    if (typeof fn !== 'function') throw new TypeError('test(' + show(name) + ', fn): fn must be a function');
    tests.push({ name: String(name), fn: fn });
  }

  // ---- running ----

  function loaded() {
    return new Promise(function (resolve) {
      if (document.readyState === 'complete') resolve(undefined);
      else window.addEventListener('load', function () { resolve(undefined); });
    });
  }

  /** @param {string} src @returns {Promise<void>} */
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error('the test script did not load from ' + src)); };
      document.head.appendChild(s);
    });
  }

  /** @template T @param {Promise<T>} promise @param {number} ms @param {string} what @returns {Promise<T>} */
  function within(promise, ms, what) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error(what + ' timed out after ' + ms + ' ms')); }, ms);
      promise.then(
        function (v) { clearTimeout(timer); resolve(v); },
        function (e) { clearTimeout(timer); reject(e); });
    });
  }

  async function main() {
    await loaded();
    // An app that never makes a client (or makes it late) still gets tested with a fresh one.
    for (var i = 0; i < 40 && !appClient; i++) await sleep(50);
    var client = appClient || (sdk && sdk.init());
    if (!client) return; // not in an app iframe
    var context = await client.context();
    if (!context || context.location !== config.location) return;
    var claim = await fetch('/__zaffre/test/claim', { method: 'POST' }).then(function (r) { return r.json(); });
    if (!claim.run) return;
    claimed = true;
    earlyErrors.splice(0).forEach(function (message) { report({ event: 'error', message: message }); });

    win.test = test;
    win.assert = assert;
    win.expect = expect;
    win.waitFor = waitFor;
    win.sleep = sleep;
    win.client = client;
    try {
      await loadScript(config.script);
    } catch (e) {
      report({ event: 'error', message: describe(e) });
      await report({ event: 'done' });
      return;
    }
    report({ event: 'plan', count: tests.length });
    var helpers = { client: client, assert: assert, expect: expect, waitFor: waitFor, sleep: sleep, context: context };
    for (var t = 0; t < tests.length; t++) {
      var current = tests[t];
      try {
        await within(Promise.resolve().then(function () { return current.fn(helpers); }), config.timeout, 'the test');
        report({ event: 'result', name: current.name, ok: true });
      } catch (e) {
        report({ event: 'result', name: current.name, ok: false, error: describe(e) });
      }
    }
    await report({ event: 'done' });
  }

  main().catch(function (e) {
    if (claimed) {
      report({ event: 'error', message: 'the test runner failed: ' + describe(e) });
      report({ event: 'done' });
    }
  });
})();
