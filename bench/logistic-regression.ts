/**
 * Prints the logistic regression's training time on synthetic data (default 200k rows × 40 features,
 * 3 classes) and how far ONNX Runtime's probabilities are from the in-process predictor's.
 * `npm run bench:lr -- [rows] [columns]`
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../core/onnx/export';
import { trainLogisticRegression } from '../core/training/logistic-regression';
import { modelOutputs } from '../core/training/model-outputs';
import { syntheticClassification } from '../tests/helpers/synthetic';

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 200_000);
  const columns = Number(process.argv[3] ?? 40);
  // Features with means up to a few standard deviations from 0 and mixed scales, like engineered features.
  await run(rows, columns, 2, 1);
  // Badly conditioned on purpose: means ~100 standard deviations from 0 make ORT's float32 GEMM lose digits.
  await run(rows, columns, 100, 2);
}

async function run(rows: number, columns: number, offsetSpread: number, scaleSpread: number): Promise<void> {
  console.log(`features: mean spread ${offsetSpread} σ, log-σ spread ${scaleSpread}`);
  const data = syntheticClassification({ rows, columns, classes: 3, seed: 7, signal: 0.5, offsetSpread, scaleSpread });
  const started = performance.now();
  const result = trainLogisticRegression(data, ['LA', 'MM', 'UM']);
  const seconds = (performance.now() - started) / 1000;
  const { probabilities, labels } = modelOutputs(result.model, data.values, rows);
  let correct = 0;
  for (let row = 0; row < rows; row++) if (labels[row] === data.labels[row]) correct++;
  console.log(
    `  train: ${rows} × ${columns}: ${seconds.toFixed(2)} s, ${result.iterations} iterations, ${result.evaluations} passes, ` +
      `stop ${result.stopReason}, loss ${result.loss.toFixed(5)}, max |gradient| ${result.gradientMax.toExponential(2)}, ` +
      `training accuracy ${(correct / rows).toFixed(4)}`,
  );

  const bytes = exportOnnx(result.model, {
    featureSpecVersion: 'bench',
    featureSpecHash: 'bench',
    featureNames: Array.from({ length: columns }, (_, index) => `f${index}`),
    algorithm: 'lr',
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const ortStarted = performance.now();
  const output = await session.run({ features: new ort.Tensor('float32', data.values, [rows, columns]) });
  const ortSeconds = (performance.now() - ortStarted) / 1000;
  const ortProbabilities = output.probabilities.data as Float32Array;
  const ortLabels = output.label.data as BigInt64Array;
  let maxDifference = 0;
  for (let index = 0; index < probabilities.length; index++) {
    maxDifference = Math.max(maxDifference, Math.abs(probabilities[index] - ortProbabilities[index]));
  }
  let labelMismatches = 0;
  for (let row = 0; row < rows; row++) if (Number(ortLabels[row]) !== labels[row]) labelMismatches++;
  console.log(
    `  onnxruntime: ${rows} rows in ${ortSeconds.toFixed(3)} s; max |p_ort − p_in-process| ${maxDifference.toExponential(2)}; ` +
      `label mismatches ${labelMismatches}`,
  );
  await session.release();
}

void main();
