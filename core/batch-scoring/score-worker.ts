/**
 * A scoring worker thread: reads gold baskets with its own single-threaded DuckDB session, computes
 * their features with the model's statistics and scores them. Each worker takes a group of whole
 * weeks at a time, so reading, features and scoring of different weeks overlap across the cores.
 * Started by ScoringPool (parallel-scoring.ts) through core/worker-launcher.ts, never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ScoreTask, ScoreWorkerData, ScoreWorkerReady, ScoreWorkerReply } from './protocol';
import { BasketFeatures, featureMatrix } from '../features/compute';
import { FEATURE_COUNT } from '../features/spec';
import { DuckDbSession } from '../lake/duckdb';
import { readGoldRelation } from '../lake/gold-reader';
import { createCheckedRowScorer } from '../onnx/row-scorer';
import { onWorkerMessages, reportReady, reportStartFailure } from '../worker-launcher';

const data = workerData as ScoreWorkerData;
const port = parentPort!;
const reply = (message: ScoreWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function start(): Promise<void> {
  // the compiled engine is checked against ONNX Runtime on the worker's first `verifyRows` rows
  const scorer = await createCheckedRowScorer(data.model, FEATURE_COUNT, { engine: data.engine, threads: 1, verifyRows: data.verifyRows });
  const session = await DuckDbSession.open({ threads: 1 });
  const features = new BasketFeatures(data.statistics);
  onWorkerMessages<ScoreTask>(
    port,
    (task) => {
      score(task).catch((error: unknown) => reply({ type: 'error', id: task.id, message: error instanceof Error ? error.message : String(error) }));
    },
    async () => {
      session.close();
      await scorer.release();
    },
  );
  reportReady<ScoreWorkerReady>(port, { engine: scorer.engine, fallbackReason: scorer.fallbackReason });

  async function score(task: ScoreTask): Promise<void> {
    const t0 = performance.now();
    const { batch, basketIds } = await readGoldRelation(task.relation, session, { ordered: false });
    const t1 = performance.now();
    const values = featureMatrix(features, batch);
    const t2 = performance.now();
    const verifiedBefore = scorer.verifiedRows;
    const probabilities = await scorer.score(values, batch.size);
    const t3 = performance.now();
    if (process.env.RETAIL_MLOPS_DEBUG) process.stderr.write(`[score ${task.id}] ${batch.size} read ${(t1 - t0).toFixed(0)} features ${(t2 - t1).toFixed(0)} score ${(t3 - t2).toFixed(0)} ms\n`);
    const verifiedRows = scorer.verifiedRows - verifiedBefore;
    // the batch is done with: its week column goes as it is
    const weeks = batch.week;
    const transfer = [basketIds.buffer, weeks.buffer, probabilities.buffer] as ArrayBuffer[];
    reply({ type: 'result', id: task.id, basketIds, weeks, probabilities, verifiedRows, maxDifference: verifiedRows > 0 ? scorer.maxDifference : 0 }, transfer);
  }
}

start().catch((error: unknown) => reportStartFailure(port, error));
