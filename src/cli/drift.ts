// `driftline drift`: a current CSV against a reference (CSV or reference.json), through the
// same window and snapshot code the service uses (the window holds every current row).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import {
  buildProfile,
  DriftWindow,
  parseDriftOverrides,
  readProfile,
  snapshot,
  type ColumnDrift,
  type DriftOverrides,
  type DriftSnapshot,
  type ReferenceProfile,
} from '../drift/index.js';
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
  /** Categorical columns (strings, or numbers taken as codes); other non-numeric ones are too. */
  categorical?: readonly string[];
  overrides?: DriftOverrides;
  driftShareThreshold?: number;
}

/** Columns that are never features unless named with --columns. */
const NOT_FEATURES = /^(id|index|target|label|y|default\.payment\.next\.month|unnamed: ?0)$/i;

interface FeatureSpec extends ColumnRequest {
  categorical: boolean;
  /** Read as text: a string column, or one whose type the data decide (no card says). */
  text?: boolean;
}

function featureSpecs(
  card: ModelCard | null,
  columns: readonly string[] | undefined,
  categorical: ReadonlySet<string>,
  refFile: string,
  curFile: string,
): FeatureSpec[] {
  const fromCard = (c: string): FeatureSpec | undefined => {
    const f = card?.features.find((x) => x.name === c || x.aliases.includes(c));
    return f === undefined ? undefined : { name: f.name, aliases: f.aliases, categorical: f.categorical };
  };
  if (columns !== undefined) return columns.map((c) => fromCard(c) ?? { name: c, categorical: categorical.has(c), text: true });
  if (card !== null) return card.features.map((f) => ({ name: f.name, aliases: f.aliases, categorical: f.categorical }));
  const target = targetRequest(null);
  const skip = new Set([target.name, ...(target.aliases ?? [])]);
  const cur = new Set(readCsvHeader(curFile));
  const common = readCsvHeader(refFile).filter((c) => cur.has(c) && !skip.has(c) && !NOT_FEATURES.test(c));
  if (common.length === 0) {
    throw new DriftlineError(
      'DL_ERR_SCHEMA_MISSING_COLUMNS',
      `No model card in the model directory and no feature column common to ${refFile} and ${curFile}; pass --columns a,b,… or --model <dir>`,
    );
  }
  return common.map((name) => ({ name, categorical: categorical.has(name), text: true }));
}

/** A column's cells as numbers, or null when a non-empty cell is not one. */
function numbersOf(cells: readonly string[]): Float64Array | null {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    const v = cell.trim() === '' ? Number.NaN : Number(cell);
    if (!Number.isFinite(v) && cell.trim() !== '') return null;
    out[i] = v;
  }
  return out;
}

/**
 * Columns read as text become numbers when every file holds only numbers in them (pandas would
 * give them a numeric dtype); otherwise they stay strings, and categorical, as Evidently makes
 * a column of non-numeric dtype.
 */
function settleTypes(specs: FeatureSpec[], files: CsvColumns[]): void {
  for (const s of specs) {
    if (s.text !== true || files.some((f) => !f.text.has(s.name))) continue;
    const numbers = files.map((f) => numbersOf(f.text.get(s.name)!));
    if (numbers.some((n) => n === null)) {
      s.categorical = true;
      continue;
    }
    s.text = false;
    files.forEach((f, i) => f.columns.set(s.name, numbers[i]!));
  }
}

/** The card's model, when its file is there and the data hold every card feature. */
async function maybePredict(
  card: ModelCard | null,
  dir: string,
  files: readonly string[],
): Promise<((file: string, limit?: number) => Promise<Float64Array>) | null> {
  if (card === null || !existsSync(path.resolve(dir, card.model_file))) return null;
  for (const f of files) {
    const header = new Set(readCsvHeader(f));
    if (!card.features.every((x) => [x.name, ...x.aliases].some((n) => header.has(n)))) return null;
  }
  return async (file) => {
    const model = await loadModel(dir);
    try {
      const data = await readCsvColumns(file, featureRequests(card));
      return await predictColumns(
        model.engine,
        card.features.map((f) => data.columns.get(f.name)!),
        data.rows,
      );
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
  const categorical = new Set(o.categorical ?? []);
  let profile: ReferenceProfile;
  let specs: FeatureSpec[];
  let cur: CsvColumns;
  if (fromJson) {
    profile = readProfile(o.reference);
    // The profile's features (through the card, for their aliases), or the --columns subset.
    specs = featureSpecs(card, o.columns ?? profile.features.map((f) => f.name), categorical, o.reference, o.current);
    // The profile knows which columns hold strings.
    const strings = new Set(profile.features.flatMap((f) => (f.categories === undefined ? [] : [f.name])));
    for (const s of specs) s.text = strings.has(s.name);
    if (profile.target !== null) target.name = profile.target.name;
    cur = await readCsvColumns(o.current, [...specs, target]);
  } else {
    specs = featureSpecs(card, o.columns, categorical, o.reference, o.current);
    const ref = await readCsvColumns(o.reference, [...specs, target]);
    cur = await readCsvColumns(o.current, [...specs, target]);
    settleTypes(specs, [ref, cur]);
    const refTarget = ref.columns.get(target.name);
    const curHeader = new Set(readCsvHeader(o.current));
    const curHasTarget = [target.name, ...(target.aliases ?? [])].some((n) => curHeader.has(n));
    profile = buildProfile({
      features: specs.map((s) =>
        s.text === true
          ? { name: s.name, strings: ref.text.get(s.name)! }
          : { name: s.name, values: ref.columns.get(s.name)!, categorical: s.categorical },
      ),
      ...(predict === null ? {} : { prediction: await predict(o.reference) }),
      ...(refTarget === undefined || !curHasTarget ? {} : { target: refTarget, targetName: target.name }),
      source: o.reference,
    });
  }
  for (const c of categorical)
    if (!specs.some((s) => s.name === c))
      process.stderr.write(`driftline drift: --categorical names "${c}", not a feature here; ignored\n`);
  const names = profile.features.map((f) => f.name);
  // Only the selected features are read; the others stay missing in the window.
  const probabilities = predict !== null && profile.prediction !== null ? await predict(o.current) : null;
  const window = new DriftWindow(profile, { capacity: Math.max(1, cur.rows) });
  const cols = names.map((n) => cur.columns.get(n));
  const labels = cur.columns.get(target.name);
  const texts = window.stringColumns.map((n) => cur.text.get(n));
  const row = new Float64Array(names.length);
  const strings: (string | undefined)[] = new Array(texts.length);
  for (let i = 0; i < cur.rows; i++) {
    for (let j = 0; j < cols.length; j++) row[j] = cols[j]?.[i] ?? Number.NaN;
    for (let j = 0; j < texts.length; j++) strings[j] = texts[j]?.[i];
    window.push(row, 0, probabilities?.[i] ?? Number.NaN, labels?.[i] ?? Number.NaN, Date.now(), strings);
  }
  const known = new Set([...names, profile.prediction?.name, profile.target?.name]);
  const overrides = Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([k]) => known.has(k)));
  for (const k of Object.keys(o.overrides ?? {}))
    if (!known.has(k)) process.stderr.write(`driftline drift: DRIFT_OVERRIDES names "${k}", not a column here; ignored\n`);
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
    lines.push(
      `${n.padEnd(w)}  ${d.test.padEnd(13)}  ${fmt(d.score).padStart(10)}  ${String(d.threshold).padStart(9)}  ${d.drift ? 'DRIFT' : 'ok'}`,
    );
  }
  const ds = s.dataset;
  lines.push(
    '',
    `${ds.n_drifted} of ${ds.n_columns} columns drifted (share ${ds.share_drifted.toFixed(3)}, threshold ${ds.drift_share_threshold}): ${ds.drift ? 'DATASET DRIFT' : 'no dataset drift'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerDrift(program: Command): void {
  program
    .command('drift')
    .description('compare a current CSV with a reference (CSV or reference.json), column by column')
    .requiredOption('--reference <file>', 'reference data (.csv) or profile (.json)')
    .requiredOption('--current <csv>', 'current data')
    .option('--model <dir>', 'model directory: its card names the features; default: MODEL_DIR')
    .option('--columns <list>', "comma-separated feature columns (default: the card's, else those common to both files)")
    .option(
      '--categorical <list>',
      'comma-separated categorical columns, when no card says (columns holding non-numbers are categorical anyway)',
    )
    .option('--json', 'print the snapshot as JSON')
    .action(
      async (opts: { reference: string; current: string; model?: string; columns?: string; categorical?: string; json?: boolean }) => {
        const config = loadConfig();
        const list = (v: string | undefined): string[] | undefined =>
          v
            ?.split(',')
            .map((c) => c.trim())
            .filter((c) => c !== '');
        const columns = list(opts.columns);
        const categorical = list(opts.categorical);
        const snap = await runDrift({
          reference: opts.reference,
          current: opts.current,
          model: opts.model ?? config.MODEL_DIR,
          ...(columns === undefined ? {} : { columns }),
          ...(categorical === undefined ? {} : { categorical }),
          overrides: parseDriftOverrides(config.DRIFT_OVERRIDES),
          driftShareThreshold: config.DRIFT_SHARE_THRESHOLD,
        });
        process.stdout.write(opts.json === true ? `${JSON.stringify(snap)}\n` : formatTable(snap));
      },
    );
}
