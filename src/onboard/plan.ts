// Which CSV columns feed which ONNX inputs. Two layouts are in use: one [N, F] input taking
// every feature (a NumPy-trained model), and one [N, 1] input per column, named after it (what
// skl2onnx emits for a DataFrame). The plan becomes the card's `inputs`.
import { DriftlineError } from '../errors.js';
import type { CardInput } from '../model/card.js';
import { fixedDim, servedInputType, shapeText, type GraphInfo, type ValueInfo } from '../model/graph.js';

export interface PlanOptions {
  target: string;
  id?: string | undefined;
  /** --features: the single input's columns, in order. */
  features?: readonly string[] | undefined;
}

export interface InputPlan {
  features: { name: string; type: 'number' | 'integer' }[];
  inputs: CardInput[];
  layout: 'single' | 'per-column';
}

function missingColumns(names: readonly string[], header: readonly string[], what: string): void {
  const missing = names.filter((n) => !header.includes(n));
  if (missing.length > 0) {
    throw new DriftlineError(
      'DL_ERR_INIT_COLUMNS',
      `${what} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no column in the data (columns: ${header.join(', ')})`,
      {
        details: { missing },
      },
    );
  }
}

// An int64 input only takes whole numbers, so its column is validated as an integer; float
// inputs take any number even when the training rows happened to be whole.
const featureType = (t: CardInput['type']): 'number' | 'integer' => (t === 'int64' ? 'integer' : 'number');

function perColumn(g: GraphInfo, header: readonly string[], opts: PlanOptions): InputPlan {
  const inputs = g.inputs.map((input) => {
    const type = servedInputType(g, input);
    const width = fixedDim(input.dims[1]);
    if (width !== undefined && width !== 1) {
      throw new DriftlineError(
        'DL_ERR_INIT_COLUMNS',
        `Model ${g.file} has ${g.inputs.length} inputs, and "${input.name}" is ${shapeText(input.dims)}; with several inputs each must be one column ([N, 1])`,
      );
    }
    return { name: input.name, columns: [input.name], type };
  });
  const names = inputs.map((i) => i.name);
  missingColumns(names, header, 'ONNX input(s)');
  if (opts.features !== undefined && [...opts.features].sort().join(',') !== [...names].sort().join(',')) {
    throw new DriftlineError(
      'DL_ERR_INIT_COLUMNS',
      `--features (${opts.features.join(', ')}) differ from the model's inputs (${names.join(', ')}); each input takes the column of its name, so leave --features out`,
    );
  }
  return { features: inputs.map((i) => ({ name: i.name, type: featureType(i.type) })), inputs, layout: 'per-column' };
}

function single(g: GraphInfo, input: ValueInfo, header: readonly string[], opts: PlanOptions): InputPlan {
  const type = servedInputType(g, input);
  const features = opts.features === undefined ? header.filter((h) => h !== opts.target && h !== opts.id) : [...opts.features];
  missingColumns(features, header, 'Feature(s)');
  const clash = features.filter((f) => f === opts.target || f === opts.id);
  if (clash.length > 0) throw new DriftlineError('DL_ERR_INIT_COLUMNS', `--features names the target or id column (${clash.join(', ')})`);
  const twice = features.filter((f, i) => features.indexOf(f) !== i);
  if (twice.length > 0) throw new DriftlineError('DL_ERR_INIT_COLUMNS', `--features lists ${twice.join(', ')} twice`);
  const width = fixedDim(input.dims[1]);
  if (width !== undefined && width !== features.length) {
    throw new DriftlineError(
      'DL_ERR_INIT_COLUMNS',
      `Model input "${input.name}" is ${shapeText(input.dims)}, ${width} features, but ${features.length} columns were chosen (${features.join(', ')})` +
        (opts.features === undefined ? "; name the model's columns in order with --features" : ''),
      { details: { width, features } },
    );
  }
  return {
    features: features.map((name) => ({ name, type: featureType(type) })),
    inputs: [{ name: input.name, columns: features, type }],
    layout: 'single',
  };
}

/** The input plan for a graph and a CSV header. */
export function planInputs(g: GraphInfo, header: readonly string[], opts: PlanOptions): InputPlan {
  if (!header.includes(opts.target)) {
    throw new DriftlineError('DL_ERR_INIT_TARGET', `Target column "${opts.target}" is not in the data (columns: ${header.join(', ')})`);
  }
  if (opts.id !== undefined && !header.includes(opts.id)) {
    throw new DriftlineError('DL_ERR_INIT_COLUMNS', `Id column "${opts.id}" is not in the data`);
  }
  const only = g.inputs.length === 1 ? g.inputs[0]! : undefined;
  // One input named after a CSV column with room for one value is the per-column layout too.
  if (only !== undefined && !(header.includes(only.name) && fixedDim(only.dims[1]) === 1 && opts.features === undefined)) {
    return single(g, only, header, opts);
  }
  return perColumn(g, header, opts);
}
