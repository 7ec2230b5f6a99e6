// zaffre's ZAF v2 client: `window.ZAFClient` for apps running in a zaffre workspace.
//
// It speaks the Zendesk Apps Framework postMessage protocol (see docs/sdk-api.md) with the same
// public API and message shapes as Zendesk's SDK, so apps written for Zendesk run unchanged. Two
// deliberate differences: there is no allow-list of host origins (zaffre runs on any domain), and
// a second `app.registered` is ignored instead of replaying every queued message. Inbound
// messages are trusted only when they come from `window.parent` at exactly the `origin` the host
// put in the iframe URL. Loaded as a classic script (no modules, no build step).
(function () {
  'use strict';

  var VERSION = 'zaffre-1';
  // Zendesk's current SDK gives up on an unanswered get/set/invoke after five minutes.
  var TIMEOUT_MS = 300000;
  var CREATE = 'instances.create';
  /** Pending RPCs by id; ids are shared by every client in this window, as in Zendesk's SDK. */
  /** @type {Record<string, (data: any) => void>} */
  var pending = {};
  var lastId = 0;
  var lastRequest = 0;

  /** One URL parameter from a `?a=b&c=d` or `#a=b` string; '' when absent. @param {string} raw @param {string} key */
  function param(raw, key) {
    var pairs = raw.replace(/^[?#]/, '').split('&');
    for (var i = 0; i < pairs.length; i++) {
      var kv = pairs[i].split('=');
      try {
        if (decode(kv[0]) === key) return decode(kv[1] || '');
      } catch (e) { /* a malformed escape is not our parameter */ }
    }
    return '';
  }

  /** @param {string} s */
  function decode(s) {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  }

  /** An Error from the `{name, message, path}` the host reports. @param {any} e */
  function toError(e) {
    if (!e || typeof e !== 'object') return new Error(String(e));
    var err = new Error((e.path ? '"' + e.path + '" ' : '') + (e.message == null ? '' : e.message));
    if (e.name) err.name = String(e.name);
    return err;
  }

  /** Errors from any realm (another frame's Error is not instanceof ours). @param {any} v */
  function isError(v) {
    return v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';
  }

  class Client {
    /**
     * @param {string} origin the host's origin, exactly as the iframe URL gave it
     * @param {string} appGuid this iframe's guid
     * @param {string} instanceGuid the instance this client addresses
     * @param {Client|null} parent the iframe's own client, for `instance(guid)` clients
     */
    constructor(origin, appGuid, instanceGuid, parent) {
      this._origin = origin;
      this._appGuid = appGuid;
      this._instanceGuid = instanceGuid;
      this._parent = parent;
      this._source = window.parent;
      /** @type {any} */
      this._metadata = null;
      /** @type {any} */
      this._context = null;
      /** @type {Record<string, Function[]>} */
      this._messageHandlers = {};
      /** @type {Record<string, boolean>} */
      this._repliesPending = {};
      /** @type {Record<string, Client>} */
      this._instanceClients = {};
      /** Messages waiting for `app.registered`; children share their parent's. @type {any[]} */
      this._queue = parent ? parent._queue : [];
      this._ready = false;
    }

    /** Whether the host answered the handshake; instance clients follow their parent. @returns {boolean} */
    get ready() {
      return (this._parent || this)._ready;
    }

    /** @param {any} msg @param {boolean} [force] */
    _send(msg, force) {
      if (this.ready || force) this._source.postMessage(msg, this._origin);
      else this._queue.push(msg);
    }

    /** Posts `{key, message, appGuid, instanceGuid}` as JSON. @param {string} name @param {any} [data] */
    postMessage(name, data) {
      this._send(JSON.stringify({ key: name, message: data, appGuid: this._appGuid, instanceGuid: this._instanceGuid }),
        name === 'iframe.handshake');
    }

    /** @param {string} name @param {Function} handler @param {any} [context] */
    on(name, handler, context) {
      if (typeof handler !== 'function') return;
      var list = this._messageHandlers[name] || (this._messageHandlers[name] = []);
      list.push(context ? handler.bind(context) : handler);
      // The host binds its listener on the first handler and unbinds on the last: send the count.
      if (name !== 'app.registered') this.postMessage('iframe.on:' + name, { subscriberCount: list.length });
    }

    /** @param {string} name @param {Function} handler */
    off(name, handler) {
      var list = this._messageHandlers[name];
      if (!list) return false;
      var at = list.indexOf(handler);
      if (at >= 0) list.splice(at, 1);
      this.postMessage('iframe.off:' + name, { subscriberCount: list.length });
      return handler;
    }

    /** @param {string} name @param {Function} handler */
    has(name, handler) {
      var list = this._messageHandlers[name];
      return !!list && list.indexOf(handler) >= 0;
    }

    /** Asks the host to deliver `name` to this instance's listeners (it is not delivered locally). @param {string} name @param {any} [data] */
    trigger(name, data) {
      this.postMessage('iframe.trigger:' + name, data);
    }

    /** @param {string} name @param {any} data */
    _fire(name, data) {
      var list = (this._messageHandlers[name] || []).slice();
      for (var i = 0; i < list.length; i++) {
        try { list[i](data); } catch (err) { console.error(err); }
      }
    }

    /**
     * Answers a hook event (`needsReply`): success only if every handler succeeds. A handler fails
     * by throwing, returning false, a string or an Error, or returning a promise that rejects.
     * @param {string} name
     */
    _reply(name) {
      if (this._repliesPending[name]) return; // one answer at a time per hook, as Zendesk's SDK
      this._repliesPending[name] = true;
      var self = this;
      var outcomes = (this._messageHandlers[name] || []).slice().map(function (fn) {
        return new Promise(function (resolve, reject) {
          var value = fn();
          if (value && typeof value.then === 'function') value.then(function () { resolve(undefined); }, reject);
          else if (value === false || typeof value === 'string' || isError(value)) reject(value);
          else resolve(undefined);
        });
      });
      /** @param {any} [reason] @param {boolean} [failed] */
      var answer = function (reason, failed) {
        delete self._repliesPending[name];
        /** @type {any} */
        var msg = { key: 'iframe.reply:' + name, appGuid: self._appGuid };
        if (failed) msg.error = { msg: isError(reason) ? reason.message : reason };
        // The hook reply is the one message sent as an object, not JSON (Zendesk's SDK does so too).
        try { self._send(msg); } catch (e) { msg.error = { msg: String(reason) }; self._send(msg); }
      };
      Promise.all(outcomes).then(function () { answer(); }, function (reason) { answer(reason, true); });
    }

    /**
     * Sends one RPC and settles with its result. A single path (string) rejects on its own error;
     * a bulk call resolves with the `errors` map.
     * @param {string} kind @param {any} params @param {any} path @param {boolean} [noTimeout]
     */
    _rpc(kind, params, path, noTimeout) {
      var id = ++lastId;
      var self = this;
      return new Promise(function (resolve, reject) {
        var timer = noTimeout ? undefined : setTimeout(function () {
          delete pending[id];
          reject(new Error('Invocation request timeout'));
        }, TIMEOUT_MS);
        pending[id] = function (data) {
          clearTimeout(timer);
          delete pending[id];
          var result = data.result;
          if (data.error) reject(toError(data.error));
          else if (!result || typeof result !== 'object') reject(new Error('Invalid reply to "' + kind + '"'));
          else if (typeof path === 'string' && result.errors && result.errors[path]) reject(toError(result.errors[path]));
          else resolve(result);
        };
        self._send(JSON.stringify({ id: id, request: kind, params: params, appGuid: self._appGuid, instanceGuid: self._instanceGuid }));
      });
    }

    /** @param {string|string[]} path */
    get(path) {
      var paths = Array.isArray(path) ? path : [path];
      if (arguments.length > 1 || paths.some(function (p) { return typeof p !== 'string'; })) {
        throw new Error('The get method accepts a string or array of strings.');
      }
      return this._rpc('get', paths, path);
    }

    /** @param {string|Record<string, any>} key @param {any} [value] */
    set(key, value) {
      /** @type {any} */
      var obj = key;
      if (typeof key === 'string') {
        if (arguments.length < 2) throw new Error('The setter requires a value');
        obj = {};
        obj[key] = value;
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new Error('The set method accepts a key and value pair, or an object of key and value pairs.');
      }
      return this._rpc('set', obj, key);
    }

    /** @param {string|Record<string, string[]>} name @param {...any} args */
    invoke(name, ...args) {
      /** @type {Record<string, any[]>} */
      var obj = {};
      var bad = 'Invoke supports string arguments or an object with array of strings.';
      if (typeof name === 'string') {
        obj[name] = args;
      } else if (name && typeof name === 'object') {
        Object.keys(name).forEach(function (k) {
          var list = name[k];
          if (!Array.isArray(list) || list.some(function (a) { return typeof a !== 'string'; })) throw new Error(bad);
        });
        obj = name;
      } else {
        throw new Error(bad);
      }
      var keys = Object.keys(obj);
      var creates = keys.filter(function (k) { return k === CREATE; }).length;
      if (creates && creates !== keys.length) {
        return Promise.reject(new Error('Illegal bulk call - `instances.create` must be called separately.'));
      }
      // A modal may stay open for as long as the agent likes: creating one never times out.
      return this._rpc('invoke', obj, name, creates > 0);
    }

    /**
     * Asks the host to perform an HTTP request; settles with the host's first response argument.
     * @param {string|Record<string, any>} options
     * @returns {Promise<any>}
     */
    request(options) {
      if (this._parent) return this._parent.request(options);
      var key = 'request:' + (++lastRequest);
      var self = this;
      return new Promise(function (resolve, reject) {
        /** @param {Function} settle */
        var handler = function (settle) {
          return function (/** @type {any} */ evt) {
            self.off(key + '.fail', onFail);
            self.off(key + '.done', onDone);
            settle(evt && evt.responseArgs ? evt.responseArgs[0] : undefined);
          };
        };
        var onDone = handler(resolve);
        var onFail = handler(reject);
        self.on(key + '.done', onDone);
        self.on(key + '.fail', onFail);
        self.postMessage(key, typeof options === 'string' ? { url: options } : options);
      });
    }

    /**
     * A client addressing another instance of this app (a modal, the nav bar pane…).
     * @param {string} guid
     * @returns {Client}
     */
    instance(guid) {
      if (!guid || typeof guid !== 'string') throw new Error('The instance method expects an `instanceGuid` string.');
      if (guid === this._instanceGuid) return this;
      if (this._parent) return this._parent.instance(guid);
      return this._instanceClients[guid] || (this._instanceClients[guid] = new Client(this._origin, this._appGuid, guid, this));
    }

    /** @returns {Promise<any>} */
    metadata() {
      var top = this._parent || this;
      return new Promise(function (resolve) {
        if (top._ready) resolve(top._metadata);
        else top.on('app.registered', function () { resolve(top._metadata); });
      });
    }

    /** @returns {Promise<any>} */
    context() {
      var self = this;
      if (this._context) return Promise.resolve(this._context);
      if (this._parent) {
        var key = 'instances.' + this._instanceGuid;
        return this.get(key).then(function (data) { return (self._context = data[key]); });
      }
      return new Promise(function (resolve) {
        if (self._ready) resolve(self._context);
        else self.on('app.registered', function () { resolve(self._context); });
      });
    }

    /** @param {MessageEvent} event */
    _receive(event) {
      if (event.origin !== this._origin || event.source !== this._source) return;
      /** @type {any} */
      var data = event.data;
      if (!data) return;
      if (typeof data === 'string') {
        try { data = JSON.parse(data); } catch (e) { return; }
      }
      if (!data || typeof data !== 'object') return;
      var guid = data.instanceGuid;
      var target = guid && guid !== this._instanceGuid ? this._instanceClients[guid] : this;
      if (!target) return; // addressed to an instance client this iframe never made
      if (data.id != null && pending[data.id]) {
        pending[data.id](data);
        return;
      }
      if (typeof data.key !== 'string' || data.key.indexOf('zaf.') !== 0) return;
      var name = data.key.slice(4);
      if (data.needsReply) {
        target._reply(name);
      } else if (name === 'app.registered') {
        if (target !== this || this._ready) return; // registered once; a repeat must not re-send the queue
        var message = data.message || {};
        this._ready = true;
        this._metadata = message.metadata;
        this._context = message.context;
        var queued = this._queue.splice(0);
        for (var i = 0; i < queued.length; i++) this._source.postMessage(queued[i], this._origin);
        this._fire(name, message);
      } else {
        if (name === 'context.updated') target._context = data.message;
        target._fire(name, data.message);
      }
    }
  }

  /**
   * Connects the iframe to its host: reads `origin` and `app_guid` from the URL (query first,
   * then hash), posts the handshake and returns the client, or false outside an app iframe.
   * @param {(this: Client, data: {metadata: any, context: any}) => void} [callback] called once registered
   */
  function init(callback) {
    var origin = param(location.search, 'origin') || param(location.hash, 'origin');
    var guid = param(location.search, 'app_guid') || param(location.hash, 'app_guid');
    if (!origin || !guid) return false;
    var client = new Client(origin, guid, guid, null);
    window.addEventListener('message', function (event) { client._receive(event); });
    client.postMessage('iframe.handshake', { version: VERSION });
    // Subscribing to our own context updates is how the host knows to send them (queued until registered).
    client.on('context.updated', function () {});
    if (typeof callback === 'function') client.on('app.registered', callback.bind(client));
    return client;
  }

  /** @type {any} */ (window).ZAFClient = { init: init };
})();
