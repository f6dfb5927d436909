/**
 * The prediction worker's entry point (a worker thread; `session.run` and the per-basket work block
 * its event loop, not the server's). It holds one model: an ONNX Runtime session and the model's
 * feature statistics. Each `run` message carries request bodies; the worker parses and validates
 * them, computes features and runs the session once for all of them. Started by InferenceWorker
 * (inference-worker.ts), never imported.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { BodyProblem, BodyShape, RunRequest, RunResult, WorkerRequest, WorkerResponse } from './protocol';
import { RequestFeaturizer } from './request-features';
import { FEATURE_COUNT } from '../../core/features/spec';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import { parseStatisticsArtifact } from '../models/statistics-artifact';

const CLASS_COUNT = PRICE_SENSITIVITY_CLASSES.length;

interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly featurizer: RequestFeaturizer;
}

function startModelWorker(port: NonNullable<typeof parentPort>): void {
  let loaded: LoadedModel | undefined;
  // one message at a time: a run waits for the load and for the runs before it
  let chain: Promise<void> = Promise.resolve();
  const send = (message: WorkerResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  const run = async (message: RunRequest): Promise<void> => {
    if (!loaded) throw new Error('no model is loaded in this worker');
    const { bodies } = message;
    const { rows, rowsPerRequest, problems, features, basketIds } = loaded.featurizer.featurize(message.shapes, bodies);
    let probabilities = new Float32Array(0);
    const labels = new Uint8Array(rows);
    if (rows > 0) {
      const output = await loaded.session.run({ features: new ort.Tensor('float32', features, [rows, FEATURE_COUNT]) });
      const probabilityTensor = output.probabilities;
      const labelTensor = output.label;
      if (probabilityTensor.type !== 'float32' || probabilityTensor.dims[0] !== rows || probabilityTensor.dims[1] !== CLASS_COUNT) {
        throw new Error(`probabilities output is ${probabilityTensor.type} ${JSON.stringify(probabilityTensor.dims)}, expected float32 [${rows}, ${CLASS_COUNT}]`);
      }
      if (labelTensor.type !== 'int64' || labelTensor.dims[0] !== rows) {
        throw new Error(`label output is ${labelTensor.type} ${JSON.stringify(labelTensor.dims)}, expected int64 [${rows}]`);
      }
      // a copy: ORT's output buffers are not ours to transfer
      probabilities = Float32Array.from(probabilityTensor.data as Float32Array);
      const labelData = labelTensor.data as BigInt64Array;
      for (let row = 0; row < rows; row++) {
        const label = Number(labelData[row]);
        if (!(label >= 0 && label < CLASS_COUNT)) throw new Error(`label output ${label} is outside 0…${CLASS_COUNT - 1}`);
        labels[row] = label;
      }
    }
    const predictionsJson = responseFragments(message.shapes, rowsPerRequest, problems, probabilities, labels);
    const result: RunResult = { type: 'result', id: message.id, rowsPerRequest, problems, features, basketIds, probabilities, labels, predictionsJson };
    const transfer = [features.buffer, probabilities.buffer, labels.buffer, rowsPerRequest.buffer, ...(basketIds ? [basketIds.buffer] : [])] as ArrayBuffer[];
    send(result, transfer);
  };

  port.on('message', (message: WorkerRequest) => {
    chain = chain.then(async () => {
      if (message.type === 'load') {
        try {
          const featurizer = new RequestFeaturizer(parseStatisticsArtifact(message.statistics), message.limits);
          const session = await ort.InferenceSession.create(message.model, {
            intraOpNumThreads: message.session.intraOpThreads,
            interOpNumThreads: message.session.interOpThreads,
            executionMode: 'sequential',
            graphOptimizationLevel: 'all',
            executionProviders: ['cpu'],
          });
          const missing = [
            ...(session.inputNames.includes('features') ? [] : [`input 'features' (inputs: ${session.inputNames.join(', ')})`]),
            ...['label', 'probabilities'].filter((name) => !session.outputNames.includes(name)).map((name) => `output '${name}' (outputs: ${session.outputNames.join(', ')})`),
          ];
          if (missing.length > 0) {
            await session.release();
            send({ type: 'load-failed', message: `the model has no ${missing.join('; no ')}` });
            return;
          }
          loaded = { session, featurizer };
          send({ type: 'loaded' });
        } catch (error) {
          send({ type: 'load-failed', message: (error as Error).message });
        }
        return;
      }
      try {
        await run(message);
      } catch (error) {
        send({ type: 'run-failed', id: message.id, message: (error as Error).message });
      }
    });
  });
}

/** `"label":"MM","probabilities":{"LA":…,"MM":…,"UM":…}` for one row (numbers as JSON.stringify writes them). */
function predictionMembers(probabilities: Float32Array, labels: Uint8Array, row: number): string {
  const number = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');
  const offset = row * CLASS_COUNT;
  return (
    `"label":"${PRICE_SENSITIVITY_CLASSES[labels[row]]}","probabilities":{"LA":${number(probabilities[offset])},` +
    `"MM":${number(probabilities[offset + 1])},"UM":${number(probabilities[offset + 2])}}`
  );
}

/** The JSON text of every valid request's predictions (see RunResult.predictionsJson). */
function responseFragments(
  shapes: readonly BodyShape[],
  rowsPerRequest: Uint32Array,
  problems: readonly (BodyProblem | null)[],
  probabilities: Float32Array,
  labels: Uint8Array,
): (string | null)[] {
  const fragments: (string | null)[] = new Array<string | null>(shapes.length).fill(null);
  let row = 0;
  for (let index = 0; index < shapes.length; index++) {
    if (problems[index]) continue;
    const rows = rowsPerRequest[index];
    if (shapes[index] === 'basket') {fragments[index] = predictionMembers(probabilities, labels, row);} else {
      const items = new Array<string>(rows);
      for (let offset = 0; offset < rows; offset++) items[offset] = `{${predictionMembers(probabilities, labels, row + offset)}}`;
      fragments[index] = `[${items.join(',')}]`;
    }
    row += rows;
  }
  return fragments;
}

if (parentPort) startModelWorker(parentPort);
