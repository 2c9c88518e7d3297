import { performance } from 'node:perf_hooks';
import type { HttpResponse } from 'uWebSockets.js';
import { echartsSource, renderReport } from '../../report/index.js';
import { exchange, send, sendError } from '../http.js';
import type { ServiceState } from '../state.js';

/**
 * GET /report.html: the live window against the reference as a self-contained HTML report, to
 * save and read offline. It carries its own CSP (hashes of its inline scripts), which replaces
 * the dashboard's `script-src 'self'` for this one response.
 */
export function reportRoute(s: ServiceState): (res: HttpResponse) => void {
  return (res) => {
    const t0 = performance.now();
    const ex = exchange(res);
    const finish = s.track('/report.html', 'GET', t0);
    try {
      const snapshot = s.monitor.current();
      const { html, csp } = renderReport({
        snapshot,
        model: { name: s.card.name, version: s.card.version },
        generatedAt: new Date(),
        sources: {
          reference: `reference profile (${s.profile.rows} rows${s.profile.source === null ? '' : `: ${s.profile.source}`})`,
          current: `the service's rolling window (${snapshot.window_rows} of ${s.config.WINDOW_ROWS} rows)`,
        },
        echarts: echartsSource(),
      });
      send(ex, 200, html, [
        ['content-type', 'text/html; charset=utf-8'],
        ['content-security-policy', csp],
        ['cache-control', 'no-store'],
      ]);
      finish(200);
    } catch (err) {
      finish(sendError(ex, err));
    }
  };
}
