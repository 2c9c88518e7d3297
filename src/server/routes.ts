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
  const recorded = new Proxy(app, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (!(REGISTRARS as readonly (string | symbol)[]).includes(prop)) return value.bind(target);
      return (pattern: string, ...rest: unknown[]) => {
        routes.push({ method: prop as string, pattern });
        (value as (...a: unknown[]) => unknown).call(target, pattern, ...rest);
        return recorded;
      };
    },
  });
  return { app: recorded, routes };
}
