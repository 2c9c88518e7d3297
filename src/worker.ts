import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` that sits beside `fromUrl` (the caller's import.meta.url),
 * as .js when running compiled and as .ts when running from source (tests, development).
 * From source the worker registers tsx itself rather than inheriting the parent's loader:
 * tsx's hooks don't carry into workers on Node 20, and tap's ts-node loader does but costs
 * seconds of start-up per worker.
 */
export function startWorker(fromUrl: string, name: string, opts: WorkerOptions): Worker {
  const here = fileURLToPath(fromUrl);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${name}${ext}`);
  if (ext === '.ts') {
    const url = pathToFileURL(file).href;
    const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(url)}))`;
    return new Worker(boot, { ...opts, eval: true, execArgv: [] });
  }
  return new Worker(file, opts);
}
