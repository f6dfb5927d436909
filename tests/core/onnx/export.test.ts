import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, RetailMlopsError } from '../../../core/errors';
import { exportOnnx, UnsupportedModelError } from '../../../core/onnx/export';
import type { OnnxModelMetadata } from '../../../core/onnx/metadata';
import { assertFeatureSpec, FeatureSpecMismatchError, OnnxModelError, readOnnxMetadata } from '../../../core/onnx/metadata';
import { trainLogisticRegression } from '../../../core/training/logistic-regression';
import type { FeatureMatrix, LinearModelIR, ModelIR, TreeEnsembleIR } from '../../../core/training/model';
import { modelOutputs } from '../../../core/training/model-outputs';
import { InvalidModelError } from '../../../core/training/model-validation';
import { buildTree, CLASSES, gbdtEnsemble, randomForestEnsemble, singleTreeEnsemble, thresholdRows } from '../../helpers/models';
import { checkWithOnnxChecker, maxAbsDifference, onnxCheckerAvailable, runWithOnnxRuntime, SYSTEM_PYTHON } from '../../helpers/onnx';
import { randomEnsemble, syntheticClassification } from '../../helpers/synthetic';

const TOLERANCE = 1e-5;

function metadataFor(model: ModelIR, overrides: Partial<OnnxModelMetadata> = {}): OnnxModelMetadata {
  return {
    featureSpecVersion: '1',
    featureSpecHash: 'sha256:0f1e2d',
    featureNames: Array.from({ length: model.featureCount }, (_, index) => `feature_${index}`),
    algorithm: model.kind === 'linear' ? 'lr' : 'gbdt',
    ...overrides,
  };
}

/** Exports, runs in ORT and in-process, and checks they agree; returns the max probability difference. */
async function expectOrtMatchesInProcess(model: ModelIR, values: Float32Array, rows: number): Promise<number> {
  const bytes = exportOnnx(model, metadataFor(model));
  const fromOrt = await runWithOnnxRuntime(bytes, values, rows, model.featureCount);
  const inProcess = modelOutputs(model, values, rows);
  const difference = maxAbsDifference(fromOrt.probabilities, inProcess.probabilities);
  expect(difference).toBeLessThanOrEqual(TOLERANCE);
  expect(Array.from(fromOrt.labels)).toEqual(Array.from(inProcess.labels));
  return difference;
}

/** Labels are the argmax of the probabilities (wherever the top two are not tied in float32). */
function expectLabelsAreArgmax(probabilities: Float32Array, labels: Int32Array, classCount: number): void {
  for (let row = 0; row < labels.length; row++) {
    const rowProbabilities = Array.from(probabilities.subarray(row * classCount, (row + 1) * classCount));
    const best = Math.max(...rowProbabilities);
    expect(rowProbabilities[labels[row]]).toBe(best);
  }
}

function logisticRegressionModel(): { model: LinearModelIR; data: FeatureMatrix } {
  const data = syntheticClassification({ rows: 3000, columns: 10, classes: 3, seed: 11, signal: 1, offsetSpread: 2, scaleSpread: 1 });
  return { model: trainLogisticRegression(data, CLASSES).model, data };
}

describe('ONNX export: ONNX Runtime agrees with the in-process predictor', () => {
  it('single tree, with rows exactly on, just above and around the thresholds (x <= t goes left)', async () => {
    const { values, rows } = thresholdRows();
    const model = singleTreeEnsemble();
    await expectOrtMatchesInProcess(model, values, rows);
    const fromOrt = await runWithOnnxRuntime(exportOnnx(model, metadataFor(model)), values, rows, model.featureCount);
    // Row 0 sits on both thresholds: left, left → leaf 3.
    expect(Array.from(fromOrt.probabilities.subarray(0, 3))).toEqual(Array.from(Float32Array.from([0.8, 0.1, 0.1])));
    // Row 1 is one float32 ulp above the root threshold → right → leaf 2.
    expect(Array.from(fromOrt.probabilities.subarray(3, 6))).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.7])));
  });

  it('random-forest style: leaf frequencies averaged over trees, no post-transform', async () => {
    const { values, rows } = thresholdRows();
    await expectOrtMatchesInProcess(randomForestEnsemble(), values, rows);
  });

  it('GBDT style: one tree per class and round, base values, softmax (zero leaf weights skipped)', async () => {
    const { values, rows } = thresholdRows();
    const model = gbdtEnsemble();
    await expectOrtMatchesInProcess(model, values, rows);
    const fromOrt = await runWithOnnxRuntime(exportOnnx(model, metadataFor(model)), values, rows, model.featureCount);
    expectLabelsAreArgmax(fromOrt.probabilities, fromOrt.labels, 3);
  });

  it('a single-leaf tree with all-zero values: only the base values remain', async () => {
    const model: TreeEnsembleIR = {
      kind: 'trees',
      classes: CLASSES,
      featureCount: 2,
      trees: [buildTree([{ leaf: [0, 0, 0] }])],
      baseValues: Float32Array.of(0.2, 0.5, 0.3),
      postTransform: 'none',
    };
    const fromOrt = await runWithOnnxRuntime(exportOnnx(model, metadataFor(model)), Float32Array.of(1, 2, 3, 4), 2, 2);
    expect(Array.from(fromOrt.probabilities)).toEqual(Array.from(Float32Array.of(0.2, 0.5, 0.3, 0.2, 0.5, 0.3)));
    expect(Array.from(fromOrt.labels)).toEqual([1, 1]);
  });

  it.each(['softmax', 'none'] as const)('random deep trees on random data with ties on thresholds (%s)', async (postTransform) => {
    const data = syntheticClassification({ rows: 2000, columns: 8, classes: 3, seed: 5, signal: 1 });
    // Coarse values: many rows share a value with some threshold.
    const values = Float32Array.from(data.values, (value) => Math.round(value * 4) / 4);
    const model = randomEnsemble({ ...data, values }, { trees: 45, depth: 10, seed: 17, postTransform });
    const difference = await expectOrtMatchesInProcess(model, values, data.rows);
    expect(difference).toBeLessThan(TOLERANCE);
  });

  it('logistic regression trained on synthetic data (LinearClassifier, softmax)', async () => {
    const { model, data } = logisticRegressionModel();
    await expectOrtMatchesInProcess(model, data.values, data.rows);
    const fromOrt = await runWithOnnxRuntime(exportOnnx(model, metadataFor(model)), data.values, data.rows, data.columns);
    expectLabelsAreArgmax(fromOrt.probabilities, fromOrt.labels, 3);
  });

  it('a 2-class linear model (LinearClassifier has no binary special case with two coefficient rows)', async () => {
    const data = syntheticClassification({ rows: 500, columns: 4, classes: 2, seed: 3, signal: 1 });
    const { model } = trainLogisticRegression(data, ['NO', 'YES']);
    await expectOrtMatchesInProcess(model, data.values, data.rows);
  });

  it('an empty batch', async () => {
    const { model } = logisticRegressionModel();
    const fromOrt = await runWithOnnxRuntime(exportOnnx(model, metadataFor(model)), new Float32Array(0), 0, model.featureCount);
    expect(fromOrt.labels.length).toBe(0);
  });
});

describe('ONNX export: the graph', () => {
  it('has one ai.onnx.ml node, tensor outputs `label` (int64 [N]) and `probabilities` (float [N, K]), no ZipMap', () => {
    for (const model of [gbdtEnsemble(), logisticRegressionModel().model] as ModelIR[]) {
      const proto = onnx.ModelProto.decode(exportOnnx(model, metadataFor(model)));
      expect(Number(proto.irVersion)).toBe(8);
      expect(proto.opsetImport.map((opset) => [opset.domain, Number(opset.version)])).toEqual([['', 17], ['ai.onnx.ml', 3]]);
      const graph = proto.graph as onnx.GraphProto;
      expect(graph.node.map((node) => `${node.domain}:${node.opType}`)).toEqual([
        model.kind === 'trees' ? 'ai.onnx.ml:TreeEnsembleClassifier' : 'ai.onnx.ml:LinearClassifier',
      ]);
      expect(graph.input.map((input) => input.name)).toEqual(['features']);
      const [label, probabilities] = graph.output as onnx.ValueInfoProto[];
      expect(label.name).toBe('label');
      expect(label.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.INT64);
      const dims = (valueInfo: onnx.ValueInfoProto) => valueInfo.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
      expect(dims(label)).toEqual(['N']);
      expect(probabilities.name).toBe('probabilities');
      expect(probabilities.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
      expect(dims(probabilities)).toEqual(['N', 3]);
    }
  });

  it('uses the opset-3 classifier with BRANCH_LEQ and keeps only non-zero class weights', () => {
    const model = gbdtEnsemble();
    const node = onnx.ModelProto.decode(exportOnnx(model, metadataFor(model))).graph!.node![0] as onnx.NodeProto;
    const attribute = (name: string) => node.attribute.find((candidate) => candidate.name === name) as onnx.AttributeProto;
    const modes = new Set(attribute('nodes_modes').strings.map((mode) => new TextDecoder().decode(mode)));
    expect(modes).toEqual(new Set(['BRANCH_LEQ', 'LEAF']));
    expect(new TextDecoder().decode(attribute('post_transform').s)).toBe('SOFTMAX');
    expect(attribute('class_weights').floats.every((weight) => weight !== 0)).toBe(true);
    expect(attribute('classlabels_int64s').ints.map(Number)).toEqual([0, 1, 2]);
    expect(attribute('base_values').floats).toEqual(Array.from(model.baseValues));
  });
});

const checkerAvailable = onnxCheckerAvailable();

describe('ONNX export: onnx.checker (python3-onnx 1.12, full_check)', () => {
  it.skipIf(!checkerAvailable)(
    checkerAvailable
      ? 'accepts every kind of exported model'
      : `SKIPPED: ${SYSTEM_PYTHON} cannot import onnx (install Debian's python3-onnx; the setup script does)`,
    () => {
      const data = syntheticClassification({ rows: 300, columns: 8, classes: 3, seed: 5, signal: 1 });
      const models: Record<string, ModelIR> = {
        'single-tree': singleTreeEnsemble(),
        'random-forest': randomForestEnsemble(),
        'gbdt': gbdtEnsemble(),
        'random-softmax': randomEnsemble(data, { trees: 12, depth: 8, seed: 1, postTransform: 'softmax' }),
        'random-none': randomEnsemble(data, { trees: 12, depth: 8, seed: 2, postTransform: 'none' }),
        'logistic-regression': logisticRegressionModel().model,
      };
      const exported = Object.fromEntries(Object.entries(models).map(([name, model]) => [name, exportOnnx(model, metadataFor(model))]));
      const { status, report } = checkWithOnnxChecker(exported);
      expect(report).not.toContain('FAILED');
      expect(status, report).toBe(0);
    },
  );
});

describe('ONNX metadata', () => {
  it('round-trips the feature spec, feature names, class labels, algorithm and properties', () => {
    const model = gbdtEnsemble();
    const metadata = metadataFor(model, { properties: { model_version: '12', training_weeks: '200607-200652' } });
    const info = readOnnxMetadata(exportOnnx(model, metadata));
    expect(info).toEqual({
      metadataVersion: '1',
      featureSpecVersion: '1',
      featureSpecHash: 'sha256:0f1e2d',
      featureNames: metadata.featureNames,
      classLabels: CLASSES,
      algorithm: 'gbdt',
      properties: { model_version: '12', training_weeks: '200607-200652' },
    });
  });

  it('detects a model exported for a different feature spec', () => {
    const model = logisticRegressionModel().model;
    const info = readOnnxMetadata(exportOnnx(model, metadataFor(model, { featureSpecVersion: '2', featureSpecHash: 'sha256:other' })));
    expect(() => assertFeatureSpec(info, { version: '2', hash: 'sha256:other' })).not.toThrow();
    let thrown: unknown;
    try {
      assertFeatureSpec(info, { version: '1', hash: 'sha256:0f1e2d' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FeatureSpecMismatchError);
    expect(RetailMlopsError.isInstance(thrown) && thrown.code).toBe('FEATURE_SPEC_MISMATCH');
    expect((thrown as Error).message).toContain('sha256:other');
  });

  it('rejects bytes that are not an exported retail-mlops model', () => {
    expect(() => readOnnxMetadata(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow(OnnxModelError);
    const foreign = onnx.ModelProto.encode({ irVersion: 8, graph: { name: 'foreign' }, metadataProps: [{ key: 'author', value: 'x' }] }).finish();
    expect(() => readOnnxMetadata(foreign)).toThrow(/missing retail_mlops\.metadata_version, retail_mlops\.feature_spec_version/);
  });
});

describe('ONNX export: refusals', () => {
  it('reports every metadata problem at once', () => {
    const model = gbdtEnsemble();
    let thrown: unknown;
    try {
      exportOnnx(model, metadataFor(model, { featureNames: ['a'], algorithm: '', properties: { 'retail_mlops.algorithm': 'x' } }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionsError);
    expect((thrown as InvalidOptionsError).problems).toHaveLength(3);
  });

  it('rejects an inconsistent model', () => {
    const model: LinearModelIR = { kind: 'linear', classes: CLASSES, featureCount: 2, coefficients: new Float32Array(5), intercepts: new Float32Array(3) };
    expect(() => exportOnnx(model, metadataFor(model))).toThrow(InvalidModelError);
  });

  it('refuses a 2-class tree ensemble (ORT scores 2-class TreeEnsembleClassifier as binary logistic)', () => {
    const twoClass: TreeEnsembleIR = {
      ...singleTreeEnsemble(),
      classes: ['NO', 'YES'],
      trees: [buildTree([{ leaf: [0.3, 0.7] }], 2)],
      baseValues: new Float32Array(2),
    };
    expect(() => exportOnnx(twoClass, metadataFor(twoClass))).toThrow(UnsupportedModelError);
  });
});
