import { DriftlineError } from '../errors.js';
import { sendError, type Exchange } from './http.js';
import type { ServiceState } from './state.js';

/**
 * Admission for every route that reads a request body (/predict, /api/feedback): one count of
 * uploads in progress, one limit (MAX_CONCURRENT_UPLOADS), one refusal. Beyond the limit the
 * request is answered 429 with Retry-After before a byte of its body is read (answerBeforeBody);
 * otherwise `start` runs at once (it must attach the body reader in the handler's own tick) and
 * its job holds a slot until it settles. Shutdown drains the same set.
 */
export function admitUpload(s: ServiceState, ex: Exchange, finish: (status: number) => number, start: () => Promise<number>): void {
  if (s.uploads.size >= s.config.MAX_CONCURRENT_UPLOADS) {
    const err = new DriftlineError(
      'DL_ERR_TOO_MANY_REQUESTS',
      `${s.uploads.size} uploads are in progress (MAX_CONCURRENT_UPLOADS); retry shortly`,
    );
    finish(sendError(ex, err, { headers: [['retry-after', '1']] }));
    return;
  }
  const job = start().then(finish);
  s.uploads.add(job);
  void job.finally(() => s.uploads.delete(job));
}
