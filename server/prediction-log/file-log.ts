/**
 * The prediction log on disk: JSON lines in rotating files under a directory (by convention
 * `<lake>/predictions/`). The main thread only hands each inference run's buffers to a writer worker
 * (one message per run, the feature buffer transferred); the worker formats and writes. At most
 * `maxPendingRecords` records may wait for the disk: beyond that, batches are dropped and counted
 * (`stats().dropped`, the `retail_mlops_prediction_log_dropped_total` metric), never queued without bound.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { ProblemCollector } from '../../core/errors';
import { launchWorker } from '../../core/worker-launcher';
import { silentLogger, type ServerLogger } from '../logger';
import type { LogWriterRequest, LogWriterResponse } from './protocol';
import type { PredictionLogBatch, PredictionLogSink, PredictionLogStats } from './sink';

export interface FilePredictionLogOptions {
  /** Where the files go, e.g. `<lake>/predictions` (created when missing). */
  readonly directory: string;
  /** A file is complete (renamed from `.jsonl.partial` to `.jsonl`) at this size. @default 64 MiB */
  readonly maxFileBytes?: number;
  /** … or after this long. @default 3_600_000 (one hour) */
  readonly maxFileAgeMs?: number;
  /** How often buffered lines are written. @default 250 */
  readonly flushIntervalMs?: number;
  /** Records accepted and not yet written before new ones are dropped. @default 200_000 */
  readonly maxPendingRecords?: number;
  /** Part of every file name, so several servers can share a directory. @default `<pid>-<random>` */
  readonly instance?: string;
  /** @default silentLogger */
  readonly logger?: ServerLogger;
}

/**
 * Starts the writer worker and returns the sink.
 * @throws InvalidOptionsError (every problem at once) · an fs error when the directory cannot be created
 */
export async function openFilePredictionLog(options: FilePredictionLogOptions): Promise<PredictionLogSink> {
  const settings = {
    directory: options.directory,
    maxFileBytes: options.maxFileBytes ?? 64 * 1024 * 1024,
    maxFileAgeMs: options.maxFileAgeMs ?? 3_600_000,
    flushIntervalMs: options.flushIntervalMs ?? 250,
    instance: options.instance ?? `${process.pid}-${randomBytes(3).toString('hex')}`,
  };
  const maxPendingRecords = options.maxPendingRecords ?? 200_000;
  const problems = new ProblemCollector('prediction log options');
  problems.check(typeof settings.directory === 'string' && settings.directory.length > 0, 'directory must be a non-empty path');
  problems.check(Number.isInteger(settings.maxFileBytes) && settings.maxFileBytes >= 1024, `maxFileBytes must be an integer ≥ 1024, got ${settings.maxFileBytes}`);
  problems.check(Number.isInteger(settings.maxFileAgeMs) && settings.maxFileAgeMs >= 1000, `maxFileAgeMs must be an integer ≥ 1000, got ${settings.maxFileAgeMs}`);
  problems.check(Number.isInteger(settings.flushIntervalMs) && settings.flushIntervalMs >= 10, `flushIntervalMs must be an integer ≥ 10, got ${settings.flushIntervalMs}`);
  problems.check(Number.isInteger(maxPendingRecords) && maxPendingRecords >= 1, `maxPendingRecords must be an integer ≥ 1, got ${maxPendingRecords}`);
  problems.check(/^[A-Za-z0-9._-]{1,64}$/.test(settings.instance), `instance must be 1–64 letters, digits, '.', '_', '-', got ${JSON.stringify(settings.instance)}`);
  problems.throwIfAny();
  await mkdir(settings.directory, { recursive: true });
  const logger = options.logger ?? silentLogger;

  const worker = launchWorker(__dirname, 'log-writer-worker');
  worker.unref();
  let written = 0;
  let dropped = 0;
  let pending = 0;
  let failed = false;
  let closedResolve: (() => void) | undefined;
  const post = (message: LogWriterRequest, transfer: ArrayBuffer[] = []): void => worker.postMessage(message, transfer);

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: LogWriterResponse) => {
      switch (message.type) {
        case 'ready':
          resolve();
          return;
        case 'written':
          written += message.records;
          dropped += message.failed;
          pending -= message.records + message.failed;
          if (message.error) logger.log('warn', 'prediction-log.write-failed', { records: message.failed, error: message.error });
          return;
        case 'closed':
          closedResolve?.();
          return;
      }
    });
    worker.on('error', (error) => {
      failed = true;
      logger.log('error', 'prediction-log.worker-failed', { error });
      reject(error);
      closedResolve?.();
    });
    worker.on('exit', () => {
      failed = true;
      closedResolve?.();
    });
  });
  post({ type: 'init', settings });
  await ready;

  let closing: Promise<void> | undefined;
  return {
    append(batch: PredictionLogBatch) {
      const rows = batch.labels.length;
      if (failed || closing || pending + rows > maxPendingRecords) {
        dropped += rows;
        return;
      }
      pending += rows;
      // the feature buffer is the sink's (transferred); probabilities and labels are still read by the responses: copied
      const message: PredictionLogBatch = { ...batch, probabilities: batch.probabilities.slice(), labels: batch.labels.slice() };
      post({ type: 'batch', batch: message }, [batch.features.buffer as ArrayBuffer, message.probabilities.buffer as ArrayBuffer, message.labels.buffer as ArrayBuffer]);
    },
    stats: (): PredictionLogStats => ({ written, dropped, pending }),
    close() {
      closing ??= (async () => {
        if (!failed) {
          const closed = new Promise<void>((resolve) => {
            closedResolve = resolve;
          });
          post({ type: 'close' });
          await closed;
        }
        await worker.terminate();
      })();
      return closing;
    },
  };
}
