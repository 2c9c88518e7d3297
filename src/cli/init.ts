// `driftline init`: flags in, a summary out. The work is in src/onboard.
import { InvalidArgumentError, type Command } from 'commander';
import { initModel } from '../onboard/index.js';

interface InitFlags {
  onnx: string;
  data: string;
  target: string;
  id?: string;
  features?: string[];
  validationIds?: string;
  validationFraction?: number;
  name?: string;
  version?: string;
  out?: string;
  threshold?: number;
  riskHigh?: number;
  riskMedium?: number;
  labels?: [string, string];
  force?: boolean;
}

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
};
const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
const pair = (v: string): [string, string] => {
  const l = v.split(',').map((s) => s.trim());
  if (l.length !== 2 || l.some((s) => s === '')) throw new InvalidArgumentError('expected two labels, comma-separated: class 0, class 1');
  return [l[0]!, l[1]!];
};

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'turn an ONNX binary classifier and its training data into a model directory the service serves (model.onnx, card.json, reference.json)',
    )
    .requiredOption('--onnx <file>', 'the ONNX model (float32, float64 or int64 inputs; a [N, 2] probability output)')
    .requiredOption('--data <csv>', 'the training data, with the target column')
    .requiredOption('--target <column>', 'the 0/1 target column')
    .option('--id <column>', 'a row id column (not a feature; --validation-ids looks ids up in it)')
    .option('--features <a,b,c>', "the single input's columns, in the model's order (default: every column but target and id)", list)
    .option('--validation-ids <file>', 'JSON list of ids held out for the metrics ({"ids": [...]} or [...])')
    .option('--validation-fraction <x>', 'share of rows held out for the metrics, stratified, seed 42 (default 0.2)', number)
    .option('--name <name>', 'model name (default: the ONNX file name)')
    .option('--version <v>', 'model version', '1')
    .option('--out <dir>', 'where to write (default: models/<name>/<version>)')
    .option('--threshold <p>', 'decision threshold on P(class 1)', number)
    .option('--risk-high <p>', 'P(class 1) from which the risk level is High (default 0.75)', number)
    .option('--risk-medium <p>', 'P(class 1) from which the risk level is Medium (default 0.5)', number)
    .option('--labels <no,yes>', 'labels of class 0 and class 1 (default: 0,1)', pair)
    .option('--force', 'replace a model already in --out')
    .action(async (f: InitFlags) => {
      const risk =
        f.riskHigh === undefined && f.riskMedium === undefined ? undefined : { high: f.riskHigh ?? 0.75, medium: f.riskMedium ?? 0.5 };
      const r = await initModel({ ...f, risk });
      const out = process.stdout;
      out.write(`init: wrote ${r.outDir} (model.onnx, card.json, reference.json)\n\nInferred:\n`);
      for (const line of r.inferred) out.write(`  - ${line}\n`);
      out.write('\nCheck:\n');
      for (const line of r.check) out.write(`  - ${line}\n`);
      out.write(`\nServe it: MODEL_DIR=${r.outDir} npm start\n`);
    });
}
