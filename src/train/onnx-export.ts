import onnxProto from 'onnx-proto';
import type { Ensemble } from './gbdt.js';

// The ensemble as one ai.onnx.ml TreeEnsembleClassifier node, laid out as skl2onnx 1.14 lays
// out a binary HistGradientBoostingClassifier (its sklearn_hgb.onnx interop fixture, which
// onnxruntime-node 1.30 runs): one weight per leaf, all for class 0, a single base value, and
// post_transform LOGISTIC. With that layout onnxruntime treats the summed score s as the
// log-odds of class 1 and returns probabilities [σ(−s), σ(s)] and label = s > 0.
//
// IR version 8 with ai.onnx.ml opset 1 and ai.onnx opset 17, as in that file.

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;

export interface ExportOptions {
  inputName: string;
  graphName: string;
  producerVersion: string;
  docString?: string;
  /** Written to the model's metadata_props, in this order. */
  metadata?: readonly [string, string][];
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Encodes the ensemble. onnxruntime would read an ensemble whose weights are all ≥ 0 as
 * already holding probabilities (its weights_are_all_positive_ branch skips the logistic), so
 * such a degenerate model is refused rather than exported wrong.
 */
export function exportOnnx(model: Ensemble, opts: ExportOptions): Uint8Array {
  const nodes = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as Uint8Array[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
  };
  const leaves = { treeIds: [] as number[], nodeIds: [] as number[], classIds: [] as number[], weights: [] as number[] };
  const LEAF = utf8('LEAF');
  const LEQ = utf8('BRANCH_LEQ');
  let anyNegative = false;

  model.trees.forEach((t, tid) => {
    for (let i = 0; i < t.feature.length; i++) {
      const isLeaf = t.feature[i]! < 0;
      nodes.treeIds.push(tid);
      nodes.nodeIds.push(i);
      nodes.featureIds.push(isLeaf ? 0 : t.feature[i]!);
      nodes.modes.push(isLeaf ? LEAF : LEQ);
      nodes.values.push(isLeaf ? 0 : t.threshold[i]!);
      nodes.trueIds.push(isLeaf ? 0 : t.left[i]!);
      nodes.falseIds.push(isLeaf ? 0 : t.right[i]!);
      if (isLeaf) {
        leaves.treeIds.push(tid);
        leaves.nodeIds.push(i);
        leaves.classIds.push(0);
        leaves.weights.push(t.value[i]!);
        if (t.value[i]! < 0) anyNegative = true;
      }
    }
  });
  if (!anyNegative) {
    throw new RangeError('every leaf weight is ≥ 0; onnxruntime would skip the logistic for such an ensemble (degenerate training data?)');
  }

  const ints = (name: string, v: number[]) => ({ name, type: AT.INTS, ints: v });
  const floats = (name: string, v: number[]) => ({ name, type: AT.FLOATS, floats: v });
  const tree = onnx.NodeProto.create({
    name: 'TreeEnsembleClassifier',
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    input: [opts.inputName],
    output: ['label', 'probabilities'],
    attribute: [
      floats('base_values', [model.baseScore]),
      ints('class_ids', leaves.classIds),
      ints('class_nodeids', leaves.nodeIds),
      ints('class_treeids', leaves.treeIds),
      floats('class_weights', leaves.weights),
      ints('classlabels_int64s', [0, 1]),
      ints('nodes_falsenodeids', nodes.falseIds),
      ints('nodes_featureids', nodes.featureIds),
      { name: 'nodes_modes', type: AT.STRINGS, strings: nodes.modes },
      ints('nodes_nodeids', nodes.nodeIds),
      ints('nodes_treeids', nodes.treeIds),
      ints('nodes_truenodeids', nodes.trueIds),
      floats('nodes_values', nodes.values),
      { name: 'post_transform', type: AT.STRING, s: utf8('LOGISTIC') },
    ],
  });

  const N = { dimParam: 'N' };
  const tensor = (name: string, elemType: number, dim: object[]) => ({ name, type: { tensorType: { elemType, shape: { dim } } } });
  const model_ = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [
      { domain: 'ai.onnx.ml', version: 1 },
      { domain: '', version: 17 },
    ],
    producerName: 'driftline',
    producerVersion: opts.producerVersion,
    domain: 'driftline',
    modelVersion: 1,
    docString: opts.docString ?? '',
    graph: {
      name: opts.graphName,
      node: [tree],
      input: [tensor(opts.inputName, onnx.TensorProto.DataType.FLOAT, [N, { dimValue: model.nFeatures }])],
      output: [
        tensor('label', onnx.TensorProto.DataType.INT64, [N]),
        tensor('probabilities', onnx.TensorProto.DataType.FLOAT, [N, { dimValue: 2 }]),
      ],
    },
    metadataProps: (opts.metadata ?? []).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model_).finish();
}
