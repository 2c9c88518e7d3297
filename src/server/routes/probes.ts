import { DriftlineError } from '../../errors.js';
import type { StoreHealth } from '../../store/index.js';
import { exchange, sendError, sendJson, type Handler } from '../http.js';

/** GET /health: the process answers. Open before anything is loaded. */
export const healthRoute: Handler = (res) => sendJson(exchange(res), 200, { status: 'ok' });

/** GET /ready: 503 while loading or shutting down, and when the database file is damaged. */
export function readyRoute(ready: () => boolean, health: StoreHealth): Handler {
  return (res) => {
    const ex = exchange(res);
    const corrupt = health.corruption;
    if (corrupt !== undefined) sendError(ex, new DriftlineError('DL_ERR_NOT_READY', corrupt.message, { details: { cause: corrupt.code } }));
    else if (ready()) sendJson(ex, 200, { status: 'ok' });
    else
      sendError(ex, new DriftlineError('DL_ERR_NOT_READY', 'The model or the store is still loading'), { headers: [['retry-after', '1']] });
  };
}
