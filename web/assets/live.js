// Live updates: one EventSource on /api/zaffre/events for the whole workspace, fanned out to the
// pages that care. EventSource reconnects by itself (with the server's retry delay); we only
// restart it after it gave up for good, backing off up to 30 seconds.

/**
 * @typedef {{ticket_id: number, updated_at?: string, actor_id?: number|null}} TicketEvent
 * @typedef {(type: string, event: TicketEvent) => void} LiveListener
 */

/** @type {Set<LiveListener>} */
const listeners = new Set();
/** @type {EventSource|null} */
let source = null;
let backoffMs = 1000;
/** @type {ReturnType<typeof setTimeout>|undefined} */
let retryTimer;
let connected = false;
/** @type {Set<(up: boolean) => void>} */
const statusListeners = new Set();

/** @param {boolean} up */
function setConnected(up) {
  if (connected === up) return;
  connected = up;
  for (const l of statusListeners) l(up);
}

export function startLive() {
  if (source) return;
  source = new EventSource('/api/zaffre/events', { withCredentials: true });
  source.onopen = () => { backoffMs = 1000; setConnected(true); };
  for (const type of ['ticket.updated', 'ticket.created', 'ticket.deleted']) {
    source.addEventListener(type, (ev) => {
      /** @type {TicketEvent|null} */
      let data = null;
      try { data = JSON.parse(/** @type {MessageEvent} */ (ev).data); } catch { return; }
      if (!data || typeof data.ticket_id !== 'number') return;
      for (const l of [...listeners]) {
        try { l(type, data); } catch (err) { console.error(err); }
      }
    });
  }
  source.onerror = () => {
    setConnected(false);
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(startLive, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 30_000);
    }
  };
}

export function stopLive() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  setConnected(false);
}

/** @param {LiveListener} listener @returns {() => void} */
export function onLive(listener) {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

/** @param {(up: boolean) => void} listener @returns {() => void} */
export function onLiveStatus(listener) {
  statusListeners.add(listener);
  listener(connected);
  return () => { statusListeners.delete(listener); };
}
