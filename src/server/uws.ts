import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';
import { DriftlineError } from '../errors.js';

export type Uws = typeof UWS;
export type UwsImplementation = 'native' | 'fallback';

const require = createRequire(import.meta.url);
let loaded: { uws: Uws; implementation: UwsImplementation } | undefined;

/**
 * Loads uWebSockets.js and tells which implementation came up. Its loader silently swaps in a
 * slow pure-JS server when the native binary can't load (wrong glibc, wrong Node ABI), so we
 * check for the binary in the module cache rather than trust the import.
 */
export function loadUws(): { uws: Uws; implementation: UwsImplementation } {
  if (loaded !== undefined) return loaded;
  const uws = require('uWebSockets.js') as Uws;
  const native = Object.keys(require.cache).some((k) => k.endsWith('.node') && /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(k));
  loaded = { uws, implementation: native ? 'native' : 'fallback' };
  return loaded;
}

/** Refuses the fallback unless it is explicitly allowed (ALLOW_UWS_FALLBACK=1). */
export function requireNativeUws(allowFallback: boolean): { uws: Uws; implementation: UwsImplementation } {
  const r = loadUws();
  if (r.implementation === 'fallback' && !allowFallback) {
    throw new DriftlineError(
      'DL_ERR_UWS_FALLBACK',
      'uWebSockets.js loaded its slow JavaScript fallback instead of the native binary (check the ' +
        'Node.js version and glibc); set ALLOW_UWS_FALLBACK=1 to run on it anyway',
    );
  }
  return r;
}
