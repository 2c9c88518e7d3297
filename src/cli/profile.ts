// `driftline profile`: the reference profile of a model, from its training data. Also the
// CSV and model helpers that `driftline drift` shares.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { DriftlineError } from '../errors.js';
import { CARD_FILE, readModelCard, type ModelCard } from '../model/index.js';
import { buildModelProfile } from '../onboard/index.js';

// The profile's work lives in src/onboard (init and train build the same reference); these
// names stay reachable here for the other commands that read CSVs against a card.
export { buildModelProfile, featureRequests, predictColumns, REFERENCE_FILE, targetRequest } from '../onboard/index.js';
export type { ModelProfileOptions } from '../onboard/index.js';
export { readCsvHeader } from '../csv-columns.js';

/** The model card in `dir`, or null when the directory has none (an invalid card throws). */
export function cardIfAny(dir: string): ModelCard | null {
  const file = path.join(dir, CARD_FILE);
  return existsSync(file) ? readModelCard(file) : null;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DriftlineError('DL_ERR_BAD_INPUT', `--rows must be a positive integer, not ${v}`);
  return n;
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description("build a model's reference profile (reference.json) from its training data")
    .requiredOption('--data <csv>', 'training data (feature columns by card name or alias)')
    .option('--model <dir>', 'model directory (card.json, model.onnx); default: MODEL_DIR')
    .option('--rows <n>', 'use only the first n rows', positiveInt)
    .option('--out <file>', 'where to write the profile; default: <model>/reference.json')
    .action(async (o: { data: string; model?: string; rows?: number; out?: string }) => {
      const modelDir = o.model ?? loadConfig().MODEL_DIR;
      const { profile, file } = await buildModelProfile({
        dataPath: o.data,
        modelDir,
        ...(o.rows === undefined ? {} : { rows: o.rows }),
        ...(o.out === undefined ? {} : { out: o.out }),
      });
      process.stdout.write(
        `reference profile: ${profile.rows} rows, ${profile.features.length} features` +
          `${profile.target === null ? '' : ', target'}, prediction mean ${profile.prediction?.mean.toFixed(4)} → ${file}\n`,
      );
    });
}
