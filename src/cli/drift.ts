// `driftline drift`: a current CSV against a reference (CSV or reference.json), through the
// same window and snapshot code the service uses (the window holds every current row).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { buildProfile, DriftWindow, parseDriftOverrides, readProfile, snapshot, type ColumnDrift, type DriftOverrides, type DriftSnapshot, type ReferenceProfile } from '../drift/index.js';
import { DriftlineError } from '../errors.js';
import { readCsvColumns, type ColumnRequest, type CsvColumns } from '../csv-columns.js';
import { loadModel, type ModelCard } from '../model/index.js';
import { cardIfAny, featureRequests, predictColumns, readCsvHeader, targetRequest } from './profile.js';

export interface DriftCommandOptions {
  reference: string;
  current: string;
  /** Model directory; its card names the features, its model gives prediction drift. */
  model: string;
  columns?: readonly string[];
  overrides?: DriftOverrides;
  driftShareThreshold?: number;
}

/** Columns that are never features unless named with --columns. */
const NOT_FEATURES = /^(id|index|target|label|y|default\.payment\.next\.month|unnamed: ?0)$/i;

interface FeatureSpec extends ColumnRequest {
  categorical: boolean;
}

function featureSpecs(card: ModelCard | null, columns: readonly string[] | undefined, refFile: string, curFile: string): FeatureSpec[] {
  const fromCard = (c: string): FeatureSpec | undefined => {
    const f = card?.features.find((x) => x.name === c || x.aliases.includes(c));
    return f === undefined ? undefined : { name: f.name, aliases: f.aliases, categorical: f.categorical };
  };
  if (columns !== undefined) return columns.map((c) => fromCard(c) ?? { name: c, categorical: false });
  if (card !== null) return card.features.map((f) => ({ name: f.name, aliases: f.aliases, categorical: f.categorical }));
  const target = targetRequest(null);
  const skip = new Set([target.name, ...(target.aliases ?? [])]);
  const cur = new Set(readCsvHeader(curFile));
  const common = readCsvHeader(refFile).filter((c) => cur.has(c) && !skip.has(c) && !NOT_FEATURES.test(c));
  if (common.length === 0) {
    throw new DriftlineError('DL_ERR_SCHEMA_MISSING_COLUMNS', `No model card in the model directory and no feature column common to ${refFile} and ${curFile}; pass --columns a,b,… or --model <dir>`);
  }
  return common.map((name) => ({ name, categorical: false }));
}

/** The card's model, when its file is there and the data hold every card feature. */
async function maybePredict(card: ModelCard | null, dir: string, files: readonly string[]): Promise<((file: string, limit?: number) => Promise<Float64Array>) | null> {
  if (card === null || !existsSync(path.resolve(dir, card.model_file))) return null;
  for (const f of files) {
    const header = new Set(readCsvHeader(f));
    if (!card.features.every((x) => [x.name, ...x.aliases].some((n) => header.has(n)))) return null;
  }
  return async (file) => {
    const model = await loadModel(dir);
    try {
      const data = await readCsvColumns(file, featureRequests(card));
      return await predictColumns(model.engine, card.features.map((f) => data.columns.get(f.name)!), data.rows);
    } finally {
      await model.engine.close();
    }
  };
}

export async function runDrift(o: DriftCommandOptions): Promise<DriftSnapshot> {
  const card = cardIfAny(o.model);
  const fromJson = /\.json$/i.test(o.reference);
  const predict = await maybePredict(card, o.model, fromJson ? [o.current] : [o.reference, o.current]);
  const target = targetRequest(card);
  let profile: ReferenceProfile;
  let specs: FeatureSpec[];
  if (fromJson) {
    profile = readProfile(o.reference);
    // The profile's features (through the card, for their aliases), or the --columns subset.
    specs = featureSpecs(card, o.columns ?? profile.features.map((f) => f.name), o.reference, o.current);
    if (profile.target !== null) target.name = profile.target.name;
  } else {
    specs = featureSpecs(card, o.columns, o.reference, o.current);
    const ref = await readCsvColumns(o.reference, [...specs, target]);
    const refTarget = ref.columns.get(target.name);
    const curHeader = new Set(readCsvHeader(o.current));
    const curHasTarget = [target.name, ...(target.aliases ?? [])].some((n) => curHeader.has(n));
    profile = buildProfile({
      features: specs.map((s) => ({ name: s.name, values: ref.columns.get(s.name)!, categorical: s.categorical })),
      ...(predict === null ? {} : { prediction: await predict(o.reference) }),
      ...(refTarget === undefined || !curHasTarget ? {} : { target: refTarget, targetName: target.name }),
      source: o.reference,
    });
  }
  const names = profile.features.map((f) => f.name);
  // Only the selected features are read; the others stay missing (NaN) in the window.
  const cur: CsvColumns = await readCsvColumns(o.current, [...specs, target]);
  const probabilities = predict !== null && profile.prediction !== null ? await predict(o.current) : null;
  const window = new DriftWindow(profile, { capacity: Math.max(1, cur.rows) });
  const cols = names.map((n) => cur.columns.get(n));
  const labels = cur.columns.get(target.name);
  const row = new Float64Array(names.length);
  for (let i = 0; i < cur.rows; i++) {
    for (let j = 0; j < cols.length; j++) row[j] = cols[j]?.[i] ?? Number.NaN;
    window.push(row, 0, probabilities?.[i] ?? Number.NaN, labels?.[i] ?? Number.NaN);
  }
  const known = new Set([...names, profile.prediction?.name, profile.target?.name]);
  const overrides = Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([k]) => known.has(k)));
  for (const k of Object.keys(o.overrides ?? {})) if (!known.has(k)) process.stderr.write(`driftline drift: DRIFT_OVERRIDES names "${k}", not a column here; ignored\n`);
  return snapshot(profile, window, {
    overrides,
    ...(o.driftShareThreshold === undefined ? {} : { driftShareThreshold: o.driftShareThreshold }),
    columns: specs.map((s) => s.name),
  });
}

const fmt = (x: number | null): string => (x === null ? '—' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2));

export function formatTable(s: DriftSnapshot): string {
  const rows: [string, ColumnDrift][] = Object.entries(s.features);
  if (s.prediction !== null) rows.push(['(prediction)', s.prediction]);
  if (s.target !== null) rows.push(['(target)', s.target]);
  const w = Math.max(8, ...rows.map(([n]) => n.length));
  const lines = [`${'column'.padEnd(w)}  ${'test'.padEnd(13)}  ${'score'.padStart(10)}  ${'threshold'.padStart(9)}  drift`];
  for (const [n, d] of rows) {
    lines.push(`${n.padEnd(w)}  ${d.test.padEnd(13)}  ${fmt(d.score).padStart(10)}  ${String(d.threshold).padStart(9)}  ${d.drift ? 'DRIFT' : 'ok'}`);
  }
  const ds = s.dataset;
  lines.push('', `${ds.n_drifted} of ${ds.n_columns} columns drifted (share ${ds.share_drifted.toFixed(3)}, threshold ${ds.drift_share_threshold}): ${ds.drift ? 'DATASET DRIFT' : 'no dataset drift'}`);
  return `${lines.join('\n')}\n`;
}

export function registerDrift(program: Command): void {
  program
    .command('drift')
    .description('compare a current CSV with a reference (CSV or reference.json), column by column')
    .requiredOption('--reference <file>', 'reference data (.csv) or profile (.json)')
    .requiredOption('--current <csv>', 'current data')
    .option('--model <dir>', 'model directory: its card names the features; default: MODEL_DIR')
    .option('--columns <list>', 'comma-separated feature columns (default: the card\'s, else those common to both files)')
    .option('--json', 'print the snapshot as JSON')
    .action(async (opts: { reference: string; current: string; model?: string; columns?: string; json?: boolean }) => {
      const config = loadConfig();
      const columns = opts.columns?.split(',').map((c) => c.trim()).filter((c) => c !== '');
      const snap = await runDrift({
        reference: opts.reference,
        current: opts.current,
        model: opts.model ?? config.MODEL_DIR,
        ...(columns === undefined ? {} : { columns }),
        overrides: parseDriftOverrides(config.DRIFT_OVERRIDES),
        driftShareThreshold: config.DRIFT_SHARE_THRESHOLD,
      });
      process.stdout.write(opts.json === true ? `${JSON.stringify(snap)}\n` : formatTable(snap));
    });
}
