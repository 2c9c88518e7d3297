// A tiny pub/sub that also remembers the last value of each topic, so a panel that starts
// after the hello still renders at once. Big payloads (snapshots) live here, outside Alpine's
// reactive proxies: panels copy out the few display values they need.

const handlers = new Map();
const last = new Map();

export const bus = {
  on(type, fn, { replay = true } = {}) {
    if (!handlers.has(type)) handlers.set(type, new Set());
    handlers.get(type).add(fn);
    if (replay && last.has(type)) fn(last.get(type));
    return () => handlers.get(type)?.delete(fn);
  },
  emit(type, data) {
    last.set(type, data);
    for (const fn of handlers.get(type) ?? []) {
      try {
        fn(data);
      } catch (err) {
        // One broken panel must not stop the others from rendering.
        console.warn(`dashboard: a ${type} handler failed`, err);
      }
    }
  },
  last(type) {
    return last.get(type);
  },
};

/** Runs fn at most once per animation frame, with the newest arguments; frames pause while the tab is hidden. */
export function perFrame(fn) {
  let pending = false;
  let args = [];
  return (...a) => {
    args = a;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn(...args);
    });
  };
}
