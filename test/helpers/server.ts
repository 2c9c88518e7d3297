import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/server/index.js';
import { ROOT } from './shared.js';

export const BUNDLED_MODEL = path.join(ROOT, 'models', 'credit-default', 'v1');

export interface TestServer {
  url: string;
  port: number;
  service: Service;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts the real service on port 0 with a fresh data directory. */
export async function startTestServer(env: Record<string, string> = {}, logTo?: import('pino').DestinationStream): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'dl-srv-'));
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REPORTS_DIR: path.join(dataDir, 'reports'),
    MODEL_DIR: BUNDLED_MODEL,
    LOG_LEVEL: process.env.DL_TEST_LOG ?? 'silent',
    ...env,
  });
  const service = await startService(config, createLogger(config.LOG_LEVEL, logTo ?? 2));
  const url = `http://127.0.0.1:${service.port}`;
  return { url, port: service.port, service, dataDir, close: () => service.shutdown() };
}

export const TWO_ROWS =
  'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\n20000,24,2,2,3913,3102,0,689\n120000,26,-1,2,2682,1725,0,1000\n';

export function multipart(
  fields: { name: string; filename?: string; type?: string; body: string | Buffer }[],
  boundary = 'dl-test-boundary',
): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const disp = `form-data; name="${f.name}"${f.filename === undefined ? '' : `; filename="${f.filename}"`}`;
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\nContent-Type: ${f.type ?? 'text/csv'}\r\n\r\n`),
      Buffer.from(f.body),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
