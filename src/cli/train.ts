import path from 'node:path';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { PACKAGE_ROOT } from '../config.js';
import { buildModelProfile } from './profile.js';
import {
  BUNDLED_PARAMS,
  BUNDLED_PARAMS_SOURCE,
  CARD_PARAM_NAMES,
  checkParams,
  DEFAULT_SEED,
  TUNING_FOLDS,
  TUNING_GRID,
  trainModel,
  type BoostParams,
  type TrainEvent,
  type TrainResult,
} from '../train/index.js';

// `driftline train`: retrains the bundled model from the UCI CSV. Progress goes to stderr — a
// live bar on a terminal, plain lines otherwise (CI logs, pipes) — and stdout stays empty.

const DEFAULT_OUT = 'models/credit-default/v1';
// The drift reference is the original service's reference set: the first 21,000 rows of the
// UCI file, in file order (its last 9,000 rows served as "current" data).
const REFERENCE_ROWS = 21_000;
// Shipped in the package so a fresh clone trains on the published split with no other files.
const DEFAULT_SPLIT = path.join(PACKAGE_ROOT, 'data', 'validation_ids.json');

interface TrainFlags {
  data: string;
  out: string;
  seed: number;
  split: string;
  modelVersion: string;
  tune?: boolean;
  learningRate?: number;
  maxIter?: number;
  maxLeafNodes?: number;
  minSamplesLeaf?: number;
  l2?: number;
  maxBins?: number;
  members?: number;
  distill: boolean;
  studentTrees?: number;
  studentLearningRate?: number;
  earlyStopping: boolean;
}

const integer = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
};
const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
};

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the credit-default model (gradient-boosted trees) on the UCI CSV and export it to ONNX with its model card')
    .requiredOption('--data <file>', "UCI_Credit_Card.csv (raw UCI column names) or a CSV with the service's column names")
    .option('--out <dir>', 'directory for model.onnx and card.json', DEFAULT_OUT)
    .option('--seed <n>', 'seed for the early-stopping holdout and the tuning folds', integer, DEFAULT_SEED)
    .option('--split <file>', 'JSON list of validation IDs ({"ids": [...]} or [...]); every other row trains', DEFAULT_SPLIT)
    .option('--model-version <v>', 'version recorded in the card', '1')
    .option('--tune', `choose hyper-parameters by ${TUNING_FOLDS}-fold cross-validation on the training rows first (slow: minutes)`)
    .option('--learning-rate <x>', `shrinkage (default ${BUNDLED_PARAMS.learningRate})`, number)
    .option('--max-iter <n>', `most trees (default ${BUNDLED_PARAMS.maxIter})`, integer)
    .option('--max-leaf-nodes <n>', `leaves per tree (default ${BUNDLED_PARAMS.maxLeafNodes})`, integer)
    .option('--min-samples-leaf <n>', `rows per leaf at least (default ${BUNDLED_PARAMS.minSamplesLeaf})`, integer)
    .option('--l2 <x>', `L2 penalty on leaf values (default ${BUNDLED_PARAMS.l2})`, number)
    .option('--max-bins <n>', `bins per feature, ≤ 255 (default ${BUNDLED_PARAMS.maxBins})`, integer)
    .option(
      '--members <n>',
      `boosters averaged, each with its own early-stopping holdout: the student's teacher, or the model with --no-distill (default ${BUNDLED_PARAMS.members})`,
      integer,
    )
    .option('--no-early-stopping', 'fit all --max-iter trees on all training rows (each member)')
    .option(
      '--no-distill',
      `ship the members' average itself, not a one-booster copy of it (${BUNDLED_PARAMS.members} members: ~8× the inference cost)`,
    )
    .option('--student-trees <n>', `trees of the distilled booster (default ${BUNDLED_PARAMS.studentTrees})`, integer)
    .option('--student-learning-rate <x>', `shrinkage of the distilled booster (default ${BUNDLED_PARAMS.studentLearningRate})`, number)
    .action(async (flags: TrainFlags, cmd: Command) => {
      const params: BoostParams = {
        ...BUNDLED_PARAMS,
        ...(flags.learningRate === undefined ? {} : { learningRate: flags.learningRate }),
        ...(flags.maxIter === undefined ? {} : { maxIter: flags.maxIter }),
        ...(flags.maxLeafNodes === undefined ? {} : { maxLeafNodes: flags.maxLeafNodes }),
        ...(flags.minSamplesLeaf === undefined ? {} : { minSamplesLeaf: flags.minSamplesLeaf }),
        ...(flags.l2 === undefined ? {} : { l2: flags.l2 }),
        ...(flags.maxBins === undefined ? {} : { maxBins: flags.maxBins }),
        ...(flags.members === undefined ? {} : { members: flags.members }),
        ...(flags.studentTrees === undefined ? {} : { studentTrees: flags.studentTrees }),
        ...(flags.studentLearningRate === undefined ? {} : { studentLearningRate: flags.studentLearningRate }),
        earlyStopping: flags.earlyStopping,
        distill: flags.distill,
      };
      const overridden = (Object.keys(params) as (keyof BoostParams)[]).filter((k) => params[k] !== BUNDLED_PARAMS[k]);
      try {
        checkParams(params);
      } catch (err) {
        cmd.error(`error: ${(err as Error).message}`);
      }
      const reporter = createReporter(process.stderr);
      try {
        const result = await trainModel({
          dataFile: flags.data,
          outDir: flags.out,
          splitFile: flags.split,
          seed: flags.seed,
          params,
          paramsSource:
            overridden.length === 0
              ? BUNDLED_PARAMS_SOURCE
              : `the bundled defaults with command-line overrides of ${overridden.map((k) => CARD_PARAM_NAMES[k]).join(', ')}`,
          version: flags.modelVersion,
          producerVersion: packageVersion(),
          tune: flags.tune === true ? { grid: TUNING_GRID, folds: TUNING_FOLDS } : undefined,
          onEvent: reporter.event,
        });
        reporter.done();
        await writeReferenceProfile(result, flags.data);
      } catch (err) {
        reporter.done();
        throw err;
      }
    });
}

/**
 * The drift reference profile (reference.json beside the model), built by the same code as
 * `driftline profile`: the service loads the model just written and scores the data file.
 */
async function writeReferenceProfile(result: TrainResult, dataPath: string): Promise<void> {
  const { profile, file } = await buildModelProfile({ dataPath, modelDir: path.dirname(result.modelPath), rows: REFERENCE_ROWS });
  process.stderr.write(`train: wrote ${file} (reference profile of ${profile.rows} rows)\n`);
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Reporter {
  event: (e: TrainEvent) => void;
  done: () => void;
}

// Plain-line mode prints one iteration line in this many: ~10 lines for a 100-tree run.
const LINE_EVERY = 10;

function createReporter(out: NodeJS.WriteStream): Reporter {
  const tty = out.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let bestCv = 0;
  let member = 0;
  let shown = 0;
  // Early stopping ends a booster's bar short of maxIter: close it at the count reached.
  const stopBar = (): void => {
    if (bar === undefined) return;
    bar.setTotal(shown);
    bar.stop();
    bar = undefined;
  };
  const line = (s: string): void => {
    stopBar();
    out.write(`train: ${s}\n`);
  };
  const startBar = (format: string, total: number, payload: Record<string, string>): void => {
    bar = new cliProgress.SingleBar({ format, stream: out, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
    shown = 0;
    bar.start(total, 0, payload);
  };
  const event = (e: TrainEvent): void => {
    switch (e.type) {
      case 'step':
        line(e.message);
        break;
      case 'warning':
        line(`warning: ${e.message}`);
        break;
      case 'tune-start':
        bestCv = 0;
        if (tty) startBar('tuning   {bar} {value}/{total} candidates | best CV ROC-AUC {best}', e.candidates, { best: '-' });
        else line(`tuning: ${e.candidates} candidates, ${TUNING_FOLDS}-fold CV each`);
        break;
      case 'tune-result':
        bestCv = Math.max(bestCv, e.result.meanAuc);
        shown = e.done;
        if (bar !== undefined) bar.update(e.done, { best: bestCv.toFixed(4) });
        else line(`tuning ${e.done}/${e.total}: CV ROC-AUC ${e.result.meanAuc.toFixed(4)} (best ${bestCv.toFixed(4)})`);
        break;
      case 'fit-start':
        member = 0;
        break;
      case 'iteration': {
        const loss = Number.isNaN(e.holdoutLoss) ? 'n/a' : e.holdoutLoss.toFixed(5);
        // The student has no holdout; its fit loss is the cross-entropy to the teacher's probabilities.
        const fitLoss = e.trainLoss.toFixed(5);
        if (tty) {
          // A bar per booster; early stopping ends it before maxIter, so its total is only a cap.
          if (e.member !== member) {
            stopBar();
            member = e.member;
            if (e.student)
              startBar('student   {bar} {value}/{total} trees | cross-entropy to the teacher {loss}', e.maxIter, { loss: fitLoss });
            else startBar(`booster ${e.member}/${e.members} {bar} {value}/{total} trees | holdout log-loss {loss}`, e.maxIter, { loss });
          }
          shown = e.iteration;
          bar?.update(e.iteration, { loss: e.student ? fitLoss : loss });
        } else if (e.iteration % LINE_EVERY === 0) {
          if (e.student) line(`student, tree ${e.iteration}: cross-entropy to the teacher ${fitLoss}`);
          else line(`booster ${e.member}/${e.members}, tree ${e.iteration}: fit log-loss ${fitLoss}, holdout ${loss}`);
        }
        break;
      }
    }
  };
  return {
    event,
    done: stopBar,
  };
}
