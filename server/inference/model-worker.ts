/**
 * The prediction worker's entry point (a worker thread; `session.run` and the per-basket work block
 * its event loop, not the server's). It holds one model: an ONNX Runtime session and the model's
 * feature statistics. Each `run` message says where a batch of request bodies is (shared memory, see
 * protocol.ts); the worker parses and validates them, computes features, runs the session once for
 * all of them and writes the answers back beside them. Started by InferenceWorker
 * (inference-worker.ts), never imported.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FLAG_BATCH, FLAG_OUTSIDE, REQUEST_HEADER_WORDS, resultLayout, type BodyProblem, type BodyShape, type RunReply, type RunRequest, type WorkerRequest, type WorkerResponse } from './protocol';
import { RequestFeaturizer } from './request-features';
import { FEATURE_COUNT } from '../../core/features/spec';
import { parseStatisticsArtifact } from '../../core/features/statistics-artifact';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

const CLASS_COUNT = PRICE_SENSITIVITY_CLASSES.length;

interface LoadedModel {
  readonly session: ort.InferenceSession;
  readonly featurizer: RequestFeaturizer;
}

/** A slot's buffers as this worker holds them (see protocol.ts). */
interface WorkerSlot {
  requestBuffer: SharedArrayBuffer | undefined;
  resultBuffer: SharedArrayBuffer | undefined;
}

/** A result buffer grown beyond this for one batch is replaced by a smaller one when the next batch is small. */
const KEPT_RESULT_BYTES = 4 * 1024 * 1024;

function startModelWorker(port: NonNullable<typeof parentPort>): void {
  let loaded: LoadedModel | undefined;
  const slots: WorkerSlot[] = [];
  // one message at a time: a run waits for the load and for the runs before it
  let chain: Promise<void> = Promise.resolve();
  const send = (message: WorkerResponse): void => port.postMessage(message);

  /** The request bodies of a run, as views into shared memory. */
  const bodiesOf = (message: RunRequest, slot: WorkerSlot): { shapes: BodyShape[]; bodies: Uint8Array[] } => {
    if (message.requestBuffer) slot.requestBuffer = message.requestBuffer;
    const buffer = slot.requestBuffer;
    if (!buffer) throw new Error(`slot ${message.slot} has no request buffer`);
    const header = new Uint32Array(buffer, 0, REQUEST_HEADER_WORDS * message.count);
    const outside = new Map((message.outside ?? []).map(({ index, body }) => [index, body]));
    const shapes: BodyShape[] = new Array<BodyShape>(message.count);
    const bodies: Uint8Array[] = new Array<Uint8Array>(message.count);
    for (let index = 0; index < message.count; index++) {
      const flags = header[index * REQUEST_HEADER_WORDS + 2];
      shapes[index] = flags & FLAG_BATCH ? 'batch' : 'basket';
      const body = flags & FLAG_OUTSIDE ? outside.get(index) : new Uint8Array(buffer, header[index * REQUEST_HEADER_WORDS], header[index * REQUEST_HEADER_WORDS + 1]);
      if (!body) throw new Error(`request ${index} of run ${message.id} has no body`);
      bodies[index] = body;
    }
    return { shapes, bodies };
  };

  const run = async (message: RunRequest): Promise<void> => {
    if (!loaded) throw new Error('no model is loaded in this worker');
    const started = performance.now();
    const slot = (slots[message.slot] ??= { requestBuffer: undefined, resultBuffer: undefined });
    const { shapes, bodies } = bodiesOf(message, slot);
    const { rows, rowsPerRequest, problems, features, basketIds } = loaded.featurizer.featurize(shapes, bodies);
    let probabilities: Float32Array = new Float32Array(0);
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
      probabilities = probabilityTensor.data as Float32Array;
      const labelData = labelTensor.data as BigInt64Array;
      for (let row = 0; row < rows; row++) {
        const label = Number(labelData[row]);
        if (!(label >= 0 && label < CLASS_COUNT)) throw new Error(`label output ${label} is outside 0…${CLASS_COUNT - 1}`);
        labels[row] = label;
      }
    }
    const count = message.count;
    const layout = resultLayout(count, rows, CLASS_COUNT, FEATURE_COUNT);
    let resultBuffer: SharedArrayBuffer | undefined;
    const capacity = slot.resultBuffer?.byteLength ?? 0;
    if (capacity < layout.bytes || (capacity > KEPT_RESULT_BYTES && layout.bytes * 4 < capacity)) {
      resultBuffer = new SharedArrayBuffer(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(layout.bytes))));
      slot.resultBuffer = resultBuffer;
    }
    const buffer = slot.resultBuffer!;
    new Uint32Array(buffer, layout.rowsPerRequest, count).set(rowsPerRequest);
    if (basketIds) new Float64Array(buffer, layout.basketIds, rows).set(basketIds);
    new Float32Array(buffer, layout.probabilities, rows * CLASS_COUNT).set(probabilities);
    new Float32Array(buffer, layout.features, rows * FEATURE_COUNT).set(features);
    new Uint8Array(buffer, layout.labels, rows).set(labels);
    const text = responseText(shapes, rowsPerRequest, problems, probabilities, labels, new Uint32Array(buffer, layout.textEnds, count));
    const refused: { index: number; problem: BodyProblem }[] = [];
    problems.forEach((problem, index) => {
      if (problem) refused.push({ index, problem });
    });
    const reply: RunReply = {
      type: 'result',
      id: message.id,
      slot: message.slot,
      rows,
      computeMs: performance.now() - started,
      hasBasketIds: basketIds !== undefined,
      text,
      ...(resultBuffer ? { resultBuffer } : {}),
      ...(refused.length > 0 ? { problems: refused } : {}),
    };
    send(reply);
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

/** Every valid request's predictions as JSON text, one after the other; `ends[i]` is where request i's text ends. */
function responseText(
  shapes: readonly BodyShape[],
  rowsPerRequest: Uint32Array,
  problems: readonly (BodyProblem | null)[],
  probabilities: Float32Array,
  labels: Uint8Array,
  ends: Uint32Array,
): string {
  let text = '';
  let row = 0;
  for (let index = 0; index < shapes.length; index++) {
    if (!problems[index]) {
      const rows = rowsPerRequest[index];
      if (shapes[index] === 'basket') {
        text += predictionMembers(probabilities, labels, row);
      } else {
        const items = new Array<string>(rows);
        for (let offset = 0; offset < rows; offset++) items[offset] = `{${predictionMembers(probabilities, labels, row + offset)}}`;
        text += `[${items.join(',')}]`;
      }
      row += rows;
    }
    ends[index] = text.length;
  }
  return text;
}

if (parentPort) startModelWorker(parentPort);
