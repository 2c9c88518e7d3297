import { timingSafeEqual } from 'node:crypto';
import { DriftlineError } from '../errors.js';

/** The API key check for the write routes; with no API_KEY set, every request is let through. */
export function checkKey(expected: string | undefined): (authorization: string) => DriftlineError | undefined {
  if (expected === undefined) return () => undefined;
  const want = Buffer.from(expected);
  return (authorization) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    const got = Buffer.from(m?.[1] ?? '');
    // Constant-time compare; a length mismatch is compared against itself so timing stays flat.
    const ok = got.length === want.length ? timingSafeEqual(got, want) : (timingSafeEqual(want, want), false);
    return ok ? undefined : new DriftlineError('DL_ERR_UNAUTHORIZED', 'Send Authorization: Bearer <API_KEY>');
  };
}
