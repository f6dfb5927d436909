/**
 * A scoring worker thread: reads gold baskets with its own single-threaded DuckDB session, computes
 * their features with the model's statistics and scores them. Each worker takes a group of whole
 * weeks at a time, so reading, features and scoring of different weeks overlap across the cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ScoreTask, ScoreWorkerData, ScoreWorkerReply } from './protocol';
import { BasketFeatures, featureMatrix } from '../features/compute';
import { FEATURE_COUNT } from '../features/spec';
import { DuckDbSession } from '../lake/duckdb';
import { readGoldRelation } from '../lake/gold-reader';
import { createRowScorer, maxAbsoluteDifference } from '../onnx/row-scorer';

const data = workerData as ScoreWorkerData;
const port = parentPort!;
const reply = (message: ScoreWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function start(): Promise<void> {
  const scorer = await createRowScorer(data.model, FEATURE_COUNT, { engine: data.engine, threads: 1 });
  const session = await DuckDbSession.open({ threads: 1 });
  const features = new BasketFeatures(data.statistics);
  // the reference for the compiled engine's check, loaded with the model (not on the clock of a task)
  let reference = scorer.engine === 'compiled-trees' && data.verifyRows > 0 ? await createRowScorer(data.model, FEATURE_COUNT, { engine: 'onnxruntime', threads: 1 }) : undefined;
  port.on('message', (task: ScoreTask | null) => {
    if (task === null) {
      session.close();
      void reference?.release();
      void scorer.release().finally(() => port.close());
      return;
    }
    score(task).catch((error: unknown) => reply({ type: 'error', id: task.id, message: error instanceof Error ? error.message : String(error) }));
  });
  reply({ type: 'ready', engine: scorer.engine, fallbackReason: scorer.fallbackReason });

  async function score(task: ScoreTask): Promise<void> {
    const t0 = performance.now();
    const { batch, basketIds } = await readGoldRelation(task.relation, session);
    const t1 = performance.now();
    const values = featureMatrix(features, batch);
    const t2 = performance.now();
    const probabilities = await scorer.score(values, batch.size);
    const t3 = performance.now();
    if (process.env.RETAIL_MLOPS_DEBUG) process.stderr.write(`[score ${task.id}] ${batch.size} read ${(t1 - t0).toFixed(0)} features ${(t2 - t1).toFixed(0)} score ${(t3 - t2).toFixed(0)} ms\n`);
    let verifiedRows = 0;
    let maxDifference = 0;
    if (reference && batch.size > 0) {
      const checker = reference;
      reference = undefined;
      verifiedRows = Math.min(data.verifyRows, batch.size);
      try {
        const expected = await checker.score(values, verifiedRows);
        maxDifference = maxAbsoluteDifference(probabilities.subarray(0, expected.length), expected);
      } finally {
        await checker.release();
      }
    }
    // the batch is done with: its week column goes as it is
    const weeks = batch.week;
    const transfer = [basketIds.buffer, weeks.buffer, probabilities.buffer] as ArrayBuffer[];
    reply({ type: 'result', id: task.id, basketIds, weeks, probabilities, verifiedRows, maxDifference }, transfer);
  }
}

start().catch((error: unknown) => reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
