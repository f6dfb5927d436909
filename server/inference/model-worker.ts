/**
 * The inference worker's entry point (a worker thread: `session.run` blocks its event loop, not the
 * server's). It loads one ONNX model into one ONNX Runtime session and runs batches of feature rows
 * in the order they arrive. Started by InferenceWorker (worker-client.ts), never imported.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerRequest, WorkerResponse } from './protocol';

interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly featureCount: number;
  readonly classCount: number;
}

function startModelWorker(port: NonNullable<typeof parentPort>): void {
  let loaded: LoadedSession | undefined;
  // one message at a time: a run waits for the load and for the runs before it
  let chain: Promise<void> = Promise.resolve();
  const send = (message: WorkerResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  port.on('message', (message: WorkerRequest) => {
    chain = chain.then(async () => {
      if (message.type === 'load') {
        try {
          const session = await ort.InferenceSession.create(message.model, {
            intraOpNumThreads: message.session.intraOpThreads,
            interOpNumThreads: message.session.interOpThreads,
            executionMode: 'sequential',
            graphOptimizationLevel: 'all',
            executionProviders: ['cpu'],
          });
          const problems: string[] = [];
          if (!session.inputNames.includes('features')) problems.push(`no input named 'features' (inputs: ${session.inputNames.join(', ')})`);
          for (const output of ['label', 'probabilities']) {
            if (!session.outputNames.includes(output)) problems.push(`no output named '${output}' (outputs: ${session.outputNames.join(', ')})`);
          }
          if (problems.length > 0) {
            await session.release();
            send({ type: 'load-failed', message: problems.join('; ') });
            return;
          }
          loaded = { session, featureCount: message.featureCount, classCount: message.classCount };
          send({ type: 'loaded' });
        } catch (error) {
          send({ type: 'load-failed', message: (error as Error).message });
        }
        return;
      }
      const { id, rows, features } = message;
      try {
        if (!loaded) throw new Error('no model is loaded in this worker');
        const output = await loaded.session.run({ features: new ort.Tensor('float32', features, [rows, loaded.featureCount]) });
        const probabilityTensor = output.probabilities;
        const labelTensor = output.label;
        if (probabilityTensor.type !== 'float32' || probabilityTensor.dims[0] !== rows || probabilityTensor.dims[1] !== loaded.classCount) {
          throw new Error(`probabilities output is ${probabilityTensor.type} ${JSON.stringify(probabilityTensor.dims)}, expected float32 [${rows}, ${loaded.classCount}]`);
        }
        if (labelTensor.type !== 'int64' || labelTensor.dims[0] !== rows) {
          throw new Error(`label output is ${labelTensor.type} ${JSON.stringify(labelTensor.dims)}, expected int64 [${rows}]`);
        }
        // copies: ORT's output buffers are not ours to transfer
        const probabilities = Float32Array.from(probabilityTensor.data as Float32Array);
        const labelData = labelTensor.data as BigInt64Array;
        const labels = new Uint8Array(rows);
        for (let row = 0; row < rows; row++) {
          const label = Number(labelData[row]);
          if (!(label >= 0 && label < loaded.classCount)) throw new Error(`label output ${label} is outside 0…${loaded.classCount - 1}`);
          labels[row] = label;
        }
        send({ type: 'result', id, features, probabilities, labels }, [features.buffer as ArrayBuffer, probabilities.buffer, labels.buffer]);
      } catch (error) {
        send({ type: 'run-failed', id, message: (error as Error).message, features }, [features.buffer as ArrayBuffer]);
      }
    });
  });
}

if (parentPort) startModelWorker(parentPort);
