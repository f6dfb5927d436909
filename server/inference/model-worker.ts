/**
 * The prediction worker's entry point (a worker thread; scoring and the per-basket work block its
 * event loop, not the server's). It holds one model: its scoring engine (compiled trees or compiled
 * linear classifier when the model is one, checked against ONNX Runtime on its first rows; else ONNX
 * Runtime: core/onnx/row-scorer.ts) and the model's feature statistics. Each `run` message says
 * where a batch of request bodies is (shared memory, see protocol.ts); the worker parses and validates
 * them, computes features, scores them all in one call and writes the answers back beside them. Started by InferenceWorker
 * (inference-worker.ts) through core/worker-launcher.ts with the model as its start data (it reports
 * ready once the model is loaded, or why it could not load it), never imported.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { FLAG_BATCH, FLAG_OUTSIDE, REQUEST_HEADER_WORDS, resultLayout, type BodyProblem, type BodyShape, type ModelWorkerData, type ModelWorkerReady, type RunReply, type RunRequest, type WorkerRequest, type WorkerResponse } from './protocol';
import { RequestFeaturizer } from './request-features';
import { FEATURE_COUNT } from '../../core/features/spec';
import { parseStatisticsArtifact } from '../../core/features/statistics-artifact';
import { createCheckedRowScorer, type CheckedRowScorer } from '../../core/onnx/row-scorer';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';
import { onWorkerMessages, reportReady, reportStartFailure } from '../../core/worker-launcher';

const CLASS_COUNT = PRICE_SENSITIVITY_CLASSES.length;

interface LoadedModel {
  readonly scorer: CheckedRowScorer;
  readonly featurizer: RequestFeaturizer;
  /** Why the compiled engine gave way to ONNX Runtime while serving, until the next reply says so. */
  fallbackToReport?: string;
}

/**
 * Rows a compiled engine scores beside ONNX Runtime before it scores alone: the warm-up batches at
 * load (see served-model.ts) and the first requests after them. Where they differ beyond
 * ENGINE_TOLERANCE, ONNX Runtime's answer is returned and ONNX Runtime scores from then on.
 */
export const VERIFY_ROWS = 1024;

/** A slot's buffers as this worker holds them (see protocol.ts). */
interface WorkerSlot {
  requestBuffer: SharedArrayBuffer | undefined;
  resultBuffer: SharedArrayBuffer | undefined;
}

/** A result buffer grown beyond this for one batch is replaced by a smaller one when the next batch is small. */
const KEPT_RESULT_BYTES = 4 * 1024 * 1024;

/**
 * Loads the model of `data`: its feature statistics, an ONNX Runtime session (which must accept the
 * graph and have its inputs and outputs), and the compiled engine for the model when there is one,
 * checked against that session on the first VERIFY_ROWS rows.
 */
async function loadModel(data: ModelWorkerData): Promise<LoadedModel> {
  const featurizer = new RequestFeaturizer(parseStatisticsArtifact(data.statistics), data.limits);
  const session = await ort.InferenceSession.create(data.model, {
    intraOpNumThreads: data.session.intraOpThreads,
    interOpNumThreads: data.session.interOpThreads,
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
    throw new Error(`the model has no ${missing.join('; no ')}`);
  }
  const loaded: LoadedModel = {
    featurizer,
    scorer: await createCheckedRowScorer(data.model, FEATURE_COUNT, {
      engine: data.engine,
      session,
      verifyRows: VERIFY_ROWS,
      onFallback: (reason) => (loaded.fallbackToReport = reason),
    }),
  };
  return loaded;
}

function serveModel(port: MessagePort, loaded: LoadedModel): void {
  const slots: WorkerSlot[] = [];
  // one message at a time: a run waits for the runs before it
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
    const started = performance.now();
    const slot = (slots[message.slot] ??= { requestBuffer: undefined, resultBuffer: undefined });
    const { shapes, bodies } = bodiesOf(message, slot);
    const { rows, rowsPerRequest, problems, features, basketIds } = loaded.featurizer.featurize(shapes, bodies);
    let probabilities: Float32Array = new Float32Array(0);
    const labels = new Uint8Array(rows);
    if (rows > 0) {
      probabilities = await loaded.scorer.score(features, rows);
      if (probabilities.length !== rows * CLASS_COUNT) throw new Error(`the model gave ${probabilities.length} probabilities for ${rows} rows of ${CLASS_COUNT} classes`);
      // the label is the most probable class (the first of equals), as the graph's label output
      for (let row = 0, offset = 0; row < rows; row++, offset += CLASS_COUNT) {
        let best = 0;
        for (let k = 1; k < CLASS_COUNT; k++) if (probabilities[offset + k] > probabilities[offset + best]) best = k;
        labels[row] = best;
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
      ...(loaded.fallbackToReport ? { engineFallback: loaded.fallbackToReport } : {}),
    };
    loaded.fallbackToReport = undefined;
    send(reply);
  };

  onWorkerMessages<WorkerRequest>(
    port,
    (message) => {
      chain = chain.then(async () => {
        try {
          await run(message);
        } catch (error) {
          send({ type: 'run-failed', id: message.id, message: (error as Error).message });
        }
      });
    },
    // the runs sent before the stop finish first
    () => chain.then(() => loaded.scorer.release()),
  );
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

if (parentPort) {
  const port = parentPort;
  loadModel(workerData as ModelWorkerData).then(
    (loaded) => {
      serveModel(port, loaded);
      reportReady<ModelWorkerReady>(port, { engine: loaded.scorer.engine, fallbackReason: loaded.scorer.fallbackReason });
    },
    (error: unknown) => reportStartFailure(port, error),
  );
}
