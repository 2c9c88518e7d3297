// Small ONNX graphs built in the test, for model shapes the shared fixtures do not cover: one
// input per column with numeric types, more than two classes, no probability output.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export interface ColumnInput {
  name: string;
  type: 'float' | 'double' | 'int64';
  /** Its weight in the logit of class 1. */
  weight: number;
}

const ELEM = { float: T.FLOAT, double: T.DOUBLE, int64: T.INT64 } as const;
const N = { dimParam: 'N' };
const tensor = (name: string, elemType: number, dim: object[]) => ({ name, type: { tensorType: { elemType, shape: { dim } } } });

/**
 * One [N, 1] input per column → Cast to float → Concat → MatMul by W ([k, classes], class 0's
 * column zero, class 1's the weights) → Softmax. For two classes P(class 1) = σ(Σ wⱼxⱼ).
 * `probabilities: false` leaves only an int64 label output.
 */
export function columnGraph(inputs: readonly ColumnInput[], opts: { classes?: number; probabilities?: boolean } = {}): Uint8Array {
  const classes = opts.classes ?? 2;
  const k = inputs.length;
  const w = new Float32Array(k * classes);
  inputs.forEach((c, j) => {
    for (let m = 1; m < classes; m++) w[j * classes + m] = c.weight * m;
  });
  const node: object[] = inputs.map((c) => ({
    opType: 'Cast',
    input: [c.name],
    output: [`${c.name}_f`],
    attribute: [{ name: 'to', type: AT.INT, i: T.FLOAT }],
  }));
  node.push(
    { opType: 'Concat', input: inputs.map((c) => `${c.name}_f`), output: ['x'], attribute: [{ name: 'axis', type: AT.INT, i: 1 }] },
    { opType: 'MatMul', input: ['x', 'W'], output: ['z'] },
    { opType: 'Softmax', input: ['z'], output: ['probabilities'], attribute: [{ name: 'axis', type: AT.INT, i: 1 }] },
    {
      opType: 'ArgMax',
      input: ['z'],
      output: ['label'],
      attribute: [
        { name: 'axis', type: AT.INT, i: 1 },
        { name: 'keepdims', type: AT.INT, i: 0 },
      ],
    },
  );
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'driftline-test',
    graph: {
      name: 'columns',
      node,
      initializer: [{ name: 'W', dataType: T.FLOAT, dims: [k, classes], floatData: Array.from(w) }],
      input: inputs.map((c) => tensor(c.name, ELEM[c.type], [N, { dimValue: 1 }])),
      output: [
        tensor('label', T.INT64, [N]),
        ...(opts.probabilities === false ? [] : [tensor('probabilities', T.FLOAT, [N, { dimValue: classes }])]),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
