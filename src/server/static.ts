import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { PACKAGE_ROOT } from '../config.js';
import { CSP, exchange, send } from './http.js';

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Third-party browser code, served from node_modules under /vendor so the dashboard works on a
 * closed network (no CDN).
 */
export const VENDOR: Record<string, string> = {
  // The CSP build of Alpine evaluates no strings, so the dashboard's CSP needs no 'unsafe-eval'.
  'alpine.js': '@alpinejs/csp/dist/module.esm.js',
  'echarts.js': 'echarts/dist/echarts.esm.min.js',
};

function asset(file: string): Asset {
  const body = readFileSync(file);
  return {
    body,
    type: TYPES[path.extname(file)] ?? 'application/octet-stream',
    etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
  };
}

function walk(dir: string, prefix = ''): [string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name): [string, string][] => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full, `${prefix}/${name}`) : [[`${prefix}/${name}`, full]];
  });
}

/** Loads static/ and the vendored files once; the dashboard is small enough to keep in memory. */
export function loadAssets(staticDir = path.join(PACKAGE_ROOT, 'static')): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [url, file] of walk(staticDir)) assets.set(url, asset(file));
  for (const [name, spec] of Object.entries(VENDOR)) {
    try {
      assets.set(`/vendor/${name}`, asset(require.resolve(spec)));
    } catch {
      // A vendored package missing from node_modules leaves only that file unserved.
    }
  }
  const index = assets.get('/index.html');
  if (index !== undefined) assets.set('/', index);
  return assets;
}

export function staticHandler(assets: Map<string, Asset>, track: (status: number) => void): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const ex = exchange(res);
    const a = assets.get(req.getUrl());
    if (a === undefined) {
      send(ex, 404, JSON.stringify({ detail: 'Not found', code: 'DL_ERR_NOT_FOUND' }), [['content-type', 'application/json']]);
      return track(404);
    }
    const headers: [string, string][] = [
      ['content-type', a.type],
      ['etag', a.etag],
      ['cache-control', 'no-cache'],
    ];
    if (a.type.startsWith('text/html')) headers.push(['content-security-policy', CSP]);
    if (req.getHeader('if-none-match') === a.etag) {
      send(ex, 304, '', headers);
      return track(304);
    }
    send(ex, 200, a.body, headers);
    track(200);
  };
}
