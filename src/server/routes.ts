import type { TemplatedApp } from 'uWebSockets.js';

/** A pattern as registered on the uWS app: `get /api/drift`, `ws /ws`, `any /*`. */
export interface RouteEntry {
  method: string;
  pattern: string;
}

const REGISTRARS = ['get', 'post', 'put', 'patch', 'del', 'head', 'options', 'connect', 'trace', 'any', 'ws'] as const;

/**
 * The app, with every route registered on it written down. uWS keeps no list of its own, and a
 * hand-kept list drifts from the registrations: this one is the router's, so the OpenAPI
 * document can be checked against it.
 */
export function recordRoutes(app: TemplatedApp): { app: TemplatedApp; routes: readonly RouteEntry[] } {
  const routes: RouteEntry[] = [];
  // Bound once: publish() and numSubscribers() are called per pushed message.
  const bound = new Map<string | symbol, unknown>();
  const recorded: TemplatedApp = new Proxy(app, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        const f = value as (...a: unknown[]) => unknown;
        fn = (REGISTRARS as readonly (string | symbol)[]).includes(prop)
          ? (pattern: string, ...rest: unknown[]) => {
              routes.push({ method: prop as string, pattern });
              f.call(target, pattern, ...rest);
              return recorded;
            }
          : f.bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
  return { app: recorded, routes };
}
