// `driftline init`'s work: an ONNX classifier and its training data in, a model directory the
// service can serve out (model.onnx, card.json, reference.json). Everything is written into a
// temporary directory beside the destination and renamed into place at the end, so a refusal
// at any step leaves nothing behind.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeProfile, type ReferenceProfile } from '../drift/index.js';
import { readCsvColumns, readCsvHeader } from '../csv-columns.js';
import { DriftlineError } from '../errors.js';
import { CARD_FILE, loadModel, probabilityOutput, readGraph, type ModelCard } from '../model/index.js';
import { binaryMetrics, brier } from '../model/metrics.js';
import { readSplitIds } from '../train/dataset.js';
import { permutationImportance } from '../model/importance.js';
import { composeCard, DEFAULT_RISK, DEFAULT_THRESHOLD, sha256File } from './card.js';
import { planInputs, type InputPlan } from './plan.js';
import { predictColumns, profileOfRows, REFERENCE_FILE } from './profile.js';
import { learnedRange, RANGE_MARGIN } from './ranges.js';
import { splitByFraction, splitByIdList, take, type Split } from './split.js';

export const DEFAULT_VALIDATION_FRACTION = 0.2;
export const DEFAULT_SPLIT_SEED = 42;
const MODEL_FILE = 'model.onnx';

export interface InitOptions {
  onnx: string;
  data: string;
  target: string;
  id?: string | undefined;
  features?: string[] | undefined;
  validationIds?: string | undefined;
  validationFraction?: number | undefined;
  name?: string | undefined;
  version?: string | undefined;
  /** Default: models/<name>/<version> under the working directory. */
  out?: string | undefined;
  threshold?: number | undefined;
  risk?: { high: number; medium: number } | undefined;
  labels?: [string, string] | undefined;
  force?: boolean | undefined;
}

export interface InitResult {
  outDir: string;
  card: ModelCard;
  profile: ReferenceProfile;
  plan: InputPlan;
  split: Split;
  /** What init decided on its own, one line each, for the user to read. */
  inferred: string[];
  /** What the user should check before serving. */
  check: string[];
}

function checkOptions(o: InitOptions): void {
  const unit = (v: number | undefined, flag: string): void => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new DriftlineError('DL_ERR_BAD_INPUT', `${flag} must be between 0 and 1, not ${v}`);
  };
  unit(o.threshold, '--threshold');
  unit(o.risk?.high, '--risk-high');
  unit(o.risk?.medium, '--risk-medium');
  if (o.risk !== undefined && o.risk.medium > o.risk.high)
    throw new DriftlineError('DL_ERR_BAD_INPUT', `--risk-medium (${o.risk.medium}) must not exceed --risk-high (${o.risk.high})`);
  if (o.validationIds !== undefined && o.validationFraction !== undefined)
    throw new DriftlineError('DL_ERR_BAD_INPUT', 'Give --validation-ids or --validation-fraction, not both');
  if (o.validationIds !== undefined && o.id === undefined)
    throw new DriftlineError('DL_ERR_BAD_INPUT', '--validation-ids needs --id: the column the ids are looked up in');
}

/** A directory that already holds a model is only replaced with --force. */
function checkOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new DriftlineError('DL_ERR_INIT_OUT_EXISTS', `${out} exists and is not a directory; choose another --out`);
  const held = readdirSync(out).filter((f) => f === MODEL_FILE || f === CARD_FILE || f === REFERENCE_FILE);
  if (held.length > 0 && !force) {
    throw new DriftlineError(
      'DL_ERR_INIT_OUT_EXISTS',
      `${out} already holds a model (${held.join(', ')}); pass --force to replace it, or choose another --out`,
      { details: { files: held } },
    );
  }
}

/** The target as 0/1; anything else (another coding, a third class, one class only) is refused. */
function checkTarget(name: string, y: Float64Array): void {
  const seen = new Set<number>();
  for (let i = 0; i < y.length && seen.size <= 2; i++) seen.add(y[i]!);
  const values = [...seen].sort((a, b) => a - b);
  if (values.length !== 2 || values[0] !== 0 || values[1] !== 1) {
    throw new DriftlineError(
      'DL_ERR_INIT_TARGET',
      `Target column "${name}" must hold the two classes 0 and 1 (P(class 1) is what the model's output is read as); it holds ${values.slice(0, 2).join(', ')}${values.length > 2 ? ', …' : ''}`,
      { details: { values: values.slice(0, 3) } },
    );
  }
}

export async function initModel(o: InitOptions): Promise<InitResult> {
  checkOptions(o);
  const name = o.name ?? path.basename(o.onnx).replace(/\.onnx$/i, '');
  const version = o.version ?? '1';
  const outDir = path.resolve(o.out ?? path.join('models', name, version));
  checkOut(outDir, o.force === true);
  if (!existsSync(o.onnx)) throw new DriftlineError('DL_ERR_MODEL_LOAD', `Model file not found: ${o.onnx}`);

  const graph = await readGraph(o.onnx);
  const output = probabilityOutput(graph);
  const header = readCsvHeader(o.data);
  const plan = planInputs(graph, header, { target: o.target, id: o.id, features: o.features });
  const data = await readCsvColumns(o.data, [
    ...plan.features.map((f) => ({ name: f.name })),
    { name: o.target },
    ...(o.id === undefined ? [] : [{ name: o.id }]),
  ]);
  const y = data.columns.get(o.target)!;
  checkTarget(o.target, y);
  const split =
    o.validationIds !== undefined
      ? splitByIdList(data.columns.get(o.id!)!, readSplitIds(o.validationIds))
      : splitByFraction(y, o.validationFraction ?? DEFAULT_VALIDATION_FRACTION, DEFAULT_SPLIT_SEED);
  if (split.train.length === 0)
    throw new DriftlineError(
      'DL_ERR_BAD_INPUT',
      'Every row is held out for validation: no training rows are left for the reference profile',
    );

  const columns = plan.features.map((f) => data.columns.get(f.name)!);
  const features = plan.features.map((f, j) => ({ ...f, ...learnedRange(columns[j]!, f.type === 'integer') }));
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  const risk = o.risk ?? DEFAULT_RISK;
  const source = sha256File(o.onnx);
  const parts = {
    name,
    version,
    features,
    input: { inputs: plan.inputs },
    target: { name: o.target },
    output,
    labels: o.labels ?? (['0', '1'] as [string, string]),
    decisionThreshold: threshold,
    risk,
    source,
    training: {
      made_by: 'driftline init',
      data_file: path.basename(o.data),
      rows: { total: data.rows, train: split.train.length, validation: split.validation.length },
      split: split.rule,
      range_margin: `${RANGE_MARGIN * 100} % of each column's span beyond its training extremes (zero kept as the floor of a column with no negative value)`,
    },
  };

  mkdirSync(path.dirname(outDir), { recursive: true });
  const tmp = `${outDir}.init-${process.pid}-${Date.now()}`;
  mkdirSync(tmp);
  try {
    copyFileSync(o.onnx, path.join(tmp, MODEL_FILE));
    // A copy of a read-only file is read-only: the model directory is the user's to replace.
    chmodSync(path.join(tmp, MODEL_FILE), 0o644);
    // The card without metrics first: the service's own loader opens the copy with it, so the
    // model is checked (and scored) exactly as `npm start` will check it.
    const draft = composeCard(parts);
    writeFileSync(path.join(tmp, CARD_FILE), `${JSON.stringify(draft, null, 2)}\n`);
    const model = await loadModel(tmp);
    let p: Float64Array;
    let importance: number[];
    const yVal = take(y, split.validation);
    try {
      p = await predictColumns(model.engine, columns, data.rows);
      const held = columns.map((c) => take(c, split.validation));
      importance = await permutationImportance((cols) => predictColumns(model.engine, cols, split.validation.length), held, yVal);
    } finally {
      await model.engine.close();
    }
    const pVal = take(p, split.validation);
    const card = composeCard({ ...parts, validation: { ...binaryMetrics(yVal, pVal, threshold), brier: brier(yVal, pVal) }, importance });
    writeFileSync(path.join(tmp, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`);
    const profile = profileOfRows({
      card,
      columns: columns.map((c) => take(c, split.train)),
      prediction: take(p, split.train),
      target: take(y, split.train),
      source: `${path.basename(o.data)}, ${split.train.length} training rows, model ${name} ${version}`,
    });
    writeProfile(path.join(tmp, REFERENCE_FILE), profile);
    // A replaced model is moved aside, not deleted, until the new one is in place.
    const old = existsSync(outDir) ? `${outDir}.replaced-${process.pid}-${Date.now()}` : undefined;
    if (old !== undefined) renameSync(outDir, old);
    try {
      renameSync(tmp, outDir);
    } catch (err) {
      if (old !== undefined) renameSync(old, outDir);
      throw err;
    }
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
    return { outDir, card, profile, plan, split, ...summary(o, card, plan, split, header) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function summary(
  o: InitOptions,
  card: ModelCard,
  plan: InputPlan,
  split: Split,
  header: readonly string[],
): { inferred: string[]; check: string[] } {
  const m = card.metrics!.validation;
  const inferred = [
    plan.layout === 'single'
      ? `input "${plan.inputs[0]!.name}" (${plan.inputs[0]!.type} [N, ${plan.features.length}]) takes ${o.features === undefined ? 'every column but the target and id' : '--features'}, in this order: ${plan.features.map((f) => f.name).join(', ')}`
      : `${plan.inputs.length} inputs, one per column, each fed from the column of its name (${plan.inputs.map((i) => `${i.name}: ${i.type}`).join(', ')})`,
    `output "${card.output.name}"${card.output.index === undefined ? '' : ` column ${card.output.index}`} read as P(${o.target} = 1)`,
    `accepted ranges: ${card.features.map((f) => `${f.name} ${f.type === 'integer' ? 'integer ' : ''}[${f.min}, ${f.max}]`).join('; ')}`,
    `validation: ${split.rule}; ${split.validation.length} rows held out, ${split.train.length} in the reference profile`,
    `validation metrics at threshold ${card.decision_threshold}: ROC-AUC ${m.roc_auc}, accuracy ${m.accuracy}, precision ${m.precision}, recall ${m.recall}, F1 ${m.f1}, Brier ${m.brier}`,
  ];
  const unused = header.filter((h) => h !== o.target && h !== o.id && !plan.features.some((f) => f.name === h));
  const check = [
    ...(plan.layout === 'single' && o.features === undefined
      ? ['the feature order above is the one the model was trained with (if not, pass --features in the right order)']
      : []),
    ...(unused.length > 0 ? [`these columns are not fed to the model: ${unused.join(', ')}`] : []),
    `the validation metrics match what you measured when training (a large gap means a wrong column order, scaling, or target)`,
    `decision threshold ${card.decision_threshold}, risk levels High ≥ ${card.risk_levels.high}, Medium ≥ ${card.risk_levels.medium} (flags --threshold, --risk-high, --risk-medium), labels ${card.labels.join(' / ')} (--labels)`,
    `the accepted ranges: a row outside them is refused (the margin is ${RANGE_MARGIN * 100} % of each column's span)`,
  ];
  return { inferred, check };
}
