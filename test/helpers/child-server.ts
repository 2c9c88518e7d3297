// The service in a process of its own, for checks whose measurements the test client would
// otherwise pollute (the server's RSS, its event loop's latency).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLED_MODEL } from './server.js';
import { ROOT } from './shared.js';

export interface ChildServer {
  child: ChildProcess;
  port: number;
  url: string;
  dataDir: string;
  /** SIGKILL; the data directory is left for the test to inspect. */
  kill(): void;
}

/** Starts `driftline serve` through tsx on port 0; resolves once it logs `ready`. */
export function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'dl-child-'));
  const child = spawn(process.execPath, ['--import=tsx', path.join(ROOT, 'src/cli/index.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      REPORTS_DIR: path.join(dataDir, 'reports'),
      MODEL_DIR: BUNDLED_MODEL,
      ...env,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    let port = 0;
    let up = false;
    child.stdout!.on('data', (c: Buffer) => {
      if (up) return;
      buf += c.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        const m = JSON.parse(line) as { msg: string; port?: number };
        if (m.port !== undefined && port === 0) port = m.port;
        if (m.msg === 'ready') {
          up = true;
          resolve({ child, port, url: `http://127.0.0.1:${port}`, dataDir, kill: () => void child.kill('SIGKILL') });
        }
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
}

/** A process's resident set size from /proc, or 0 once it has exited. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}
