import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The read-only fixtures beside the repository; absent on a plain clone. */
export const SHARED = process.env.DRIFTLINE_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');

/** Path of a file under ../shared, or a reason to skip when it is absent. */
export function sharedFile(rel: string): { path: string; skip: false } | { path: string; skip: string } {
  const p = path.join(SHARED, rel);
  return existsSync(p) ? { path: p, skip: false } : { path: p, skip: `${p} is absent (needs ../shared)` };
}
