// The /ws connection: envelope parsing, reconnects with jittered, capped exponential backoff,
// and a watchdog for a socket that stays open but goes quiet.

export const BACKOFF = Object.freeze({ baseMs: 500, factor: 2, capMs: 15_000 });
// Stats arrive every second on a healthy connection; 3 missed ticks is "stale", 10 a dead link.
const STALE_MS = 3_000;
const DEAD_MS = 10_000;

/**
 * Delay before reconnect attempt n (1-based): "equal jitter", half fixed and half random, so a
 * restarted server is not hit by every dashboard at the same instant yet a retry never comes
 * back immediately.
 */
export function backoffDelay(attempt, random = Math.random, opts = BACKOFF) {
  const ceiling = Math.min(opts.capMs, opts.baseMs * opts.factor ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function wsUrl(loc = window.location, topics = ['drift', 'predictions', 'alerts', 'stats']) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?topics=${topics.join(',')}`;
}

/**
 * Opens and keeps open the live connection. onState gets {state, attempt, retryAt, since}
 * where state is connecting | live | stale | reconnecting | closed.
 */
export function connectLive({ url = wsUrl(), onMessage, onState, WebSocketImpl = WebSocket }) {
  let ws = null;
  let attempt = 0;
  let retryTimer = 0;
  let watchdog = 0;
  let lastMessageAt = 0;
  let closed = false;
  let state = { state: 'connecting', attempt: 0, retryAt: 0, since: Date.now() };

  const setState = (s, extra = {}) => {
    state = { state: s, attempt, retryAt: 0, since: Date.now(), ...extra };
    onState(state);
  };

  const schedule = () => {
    if (closed) return;
    attempt += 1;
    const delay = backoffDelay(attempt);
    setState('reconnecting', { retryAt: Date.now() + delay });
    retryTimer = setTimeout(open, delay);
  };

  function open() {
    clearTimeout(retryTimer);
    if (closed) return;
    setState(attempt === 0 ? 'connecting' : 'reconnecting', { retryAt: 0 });
    let socket;
    try {
      socket = new WebSocketImpl(url);
    } catch {
      schedule();
      return;
    }
    ws = socket;
    socket.onmessage = (ev) => {
      lastMessageAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') return;
      if (msg.type === 'hello') {
        // Only a hello proves the server is serving (not just accepting TCP): reset the backoff here.
        attempt = 0;
        setState('live');
      } else if (state.state === 'stale') setState('live');
      onMessage(msg);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      schedule();
    };
    // An error is always followed by close; reconnecting is handled there.
    socket.onerror = () => {};
  }

  watchdog = setInterval(() => {
    if (ws === null || ws.readyState !== 1 || lastMessageAt === 0) return;
    const quiet = Date.now() - lastMessageAt;
    if (quiet > DEAD_MS) ws.close(4000, 'no messages');
    else if (quiet > STALE_MS && state.state === 'live') setState('stale');
  }, 1000);

  open();
  return {
    get state() {
      return state;
    },
    send(obj) {
      if (ws?.readyState === 1) ws.send(JSON.stringify(obj));
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(watchdog);
      ws?.close(1000, 'bye');
      setState('closed');
    },
  };
}
