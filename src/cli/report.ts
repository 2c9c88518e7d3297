// `driftline report`: the drift of a current CSV against a reference as one self-contained HTML
// file. The snapshot comes from runDrift, the same code path as `driftline drift`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { parseDriftOverrides } from '../drift/index.js';
import { echartsSource, renderReport } from '../report/index.js';
import { runDrift } from './drift.js';
import { cardIfAny } from './profile.js';

export interface ReportCommandOptions {
  reference: string;
  current: string;
  model?: string;
  columns?: string;
  out: string;
}

export async function writeReport(o: ReportCommandOptions): Promise<{ file: string; drift: boolean }> {
  const config = loadConfig();
  const model = o.model ?? config.MODEL_DIR;
  const columns = o.columns
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  const snapshot = await runDrift({
    reference: o.reference,
    current: o.current,
    model,
    ...(columns === undefined ? {} : { columns }),
    overrides: parseDriftOverrides(config.DRIFT_OVERRIDES),
    driftShareThreshold: config.DRIFT_SHARE_THRESHOLD,
  });
  const card = cardIfAny(model);
  const { html } = renderReport({
    snapshot,
    model: card === null ? null : { name: card.name, version: card.version },
    generatedAt: new Date(),
    sources: { reference: path.basename(o.reference), current: path.basename(o.current) },
    echarts: echartsSource(),
  });
  writeFileSync(o.out, html);
  return { file: o.out, drift: snapshot.dataset.drift };
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML drift report of a current CSV against a reference (CSV or reference.json)')
    .requiredOption('--reference <file>', 'reference data (.csv) or profile (.json)')
    .requiredOption('--current <csv>', 'current data')
    .option('--model <dir>', 'model directory: its card names the features; default: MODEL_DIR')
    .option('--columns <list>', "comma-separated feature columns (default: the card's, else those common to both files)")
    .option('-o, --out <file>', 'the HTML file to write', 'report.html')
    .action(async (o: ReportCommandOptions) => {
      const r = await writeReport(o);
      process.stderr.write(`wrote ${r.file} (${r.drift ? 'dataset drift detected' : 'no dataset drift'})\n`);
    });
}
