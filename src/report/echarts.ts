import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The UMD build defines a global `echarts`, which a classic inline <script> needs. */
export const ECHARTS_BUNDLE = 'echarts/dist/echarts.min.js';

let cached: string | undefined;

/** ECharts' browser bundle, read from node_modules once (about 1.1 MB). */
export function echartsSource(): string {
  cached ??= readFileSync(require.resolve(ECHARTS_BUNDLE), 'utf8');
  return cached;
}
