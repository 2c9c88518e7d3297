import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` that sits beside `fromUrl` (the caller's import.meta.url),
 * as .js when running compiled and as .ts when running from source. tap's TypeScript loader
 * carries over into workers; tsx's (Node 20) does not, so under tsx the worker is started
 * through a bootstrap that registers tsx first.
 */
export function startWorker(fromUrl: string, name: string, opts: WorkerOptions): Worker {
  const here = fileURLToPath(fromUrl);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${name}${ext}`);
  if (ext === '.ts' && process.execArgv.some((a) => /(^|[=/\\])tsx(\b|$)/.test(a))) {
    const url = pathToFileURL(file).href;
    return new Worker(`import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(url)}))`, { ...opts, eval: true });
  }
  return new Worker(file, opts);
}
