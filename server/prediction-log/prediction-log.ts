/**
 * The prediction log that ships to the lake. The main thread samples when the writer falls behind
 * (sampling.ts) and hands each inference run's kept rows to a writer worker (buffers transferred);
 * the worker formats compact records into segments in a local spool and compresses complete ones;
 * the shipper (shipper.ts) uploads them to `<prefix>/date=…/` in the lake's object storage. At most
 * `maxPendingRecords` records wait for the writer: beyond that, runs are dropped, counted and said so
 * in a warning line, never queued without bound. `close()` writes what is buffered, completes the
 * open segment and uploads everything before it resolves (the server calls it after draining).
 * Request ids equal to an API key are never written.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProblemCollector } from '../../core/errors';
import { DEFAULT_RETENTION, retentionProblems, type RetentionPolicy } from '../../core/monitoring/prediction-retention';
import { PREDICTIONS_PREFIX } from '../../core/monitoring/prediction-segments';
import { TELEMETRY_EVENTS, telemetryEnvironment } from '../../core/monitoring/telemetry';
import type { ObjectStorage } from '../../core/storage/port';
import { launchWorker } from '../../core/worker-launcher';
import { silentLogger, type ServerLogger } from '../logger';
import type { LogWriterRequest, LogWriterResponse, SampledBatch } from './protocol';
import { hashRequestId, isSampled, sampleRateFor } from './sampling';
import { SegmentShipper } from './shipper';
import type { PredictionLogBatch, PredictionLogSink, PredictionLogStats } from './sink';
import { lockSpool } from './spool-lock';

export interface PredictionLogOptions {
  /** Where segments ship to: object storage rooted at the lake (`EnvironmentServices.lake().storage()`), or any other. */
  readonly storage: ObjectStorage;
  /** The key prefix below the storage's root ('' for the root itself). @default 'predictions' */
  readonly prefix?: string;
  /**
   * The local directory segments are written to before their upload (one server per directory; in a
   * pod, a directory on its emptyDir volume so a restarted container ships what its predecessor left).
   * @default `<os temp>/retail-mlops-spool/<hash of the storage location and prefix>`
   */
  readonly spoolDirectory?: string;
  /** A directory below the spool directory this server spools in (one per process of `serve --processes`). @default none: the spool directory itself */
  readonly spoolSubdirectory?: string;
  /** A segment completes before it passes this many uncompressed bytes. @default 33_554_432 (32 MiB) */
  readonly maxSegmentBytes?: number;
  /** … or once it has been open this long: how late the lake sees predictions at most. @default 300_000 (5 min) */
  readonly maxSegmentAgeMs?: number;
  /** How often buffered lines are written. @default 250 */
  readonly flushIntervalMs?: number;
  /** Records accepted and not yet written before runs are dropped. @default 200_000 */
  readonly maxPendingRecords?: number;
  /** Share of maxPendingRecords from which predictions are sampled (halving the rate every further eighth). @default 0.25 */
  readonly samplingStartsAt?: number;
  /** The lowest sampling rate (a power of two). @default 1/64 */
  readonly minimumSampleRate?: number;
  /** Spool bytes of complete segments waiting for upload beyond which the oldest are dropped. @default 268_435_456 (256 MiB) */
  readonly maxSpoolBytes?: number;
  /** Retention of the shipped log (applied by each server now and then, and by `retail-mlops monitor`). @default 7 days, 5 GiB */
  readonly retention?: Partial<RetentionPolicy>;
  /** How often retention runs; 0 never. @default 900_000 (15 min) */
  readonly retentionIntervalMs?: number;
  /** Upload attempts per round before a segment waits for the next round. @default 5 */
  readonly uploadAttempts?: number;
  /** The delay before the first retry of an upload (doubling after each, at most 30 s). @default 500 */
  readonly uploadRetryDelayMs?: number;
  /** How long a failed round waits before the next. @default 60_000 */
  readonly uploadRetryRoundMs?: number;
  /** How long `close()` keeps trying to upload. @default 20_000 */
  readonly closeTimeoutMs?: number;
  /** Values never written (the API keys): a request id equal to one is logged as `redacted`. @default none */
  readonly secrets?: readonly string[];
  /** Part of every segment name: unique per server process. @default `<host>-<pid>-<random>` (sanitized) */
  readonly instance?: string;
  /** The `environment` field of the log's telemetry events. @default $RETAIL_MLOPS_ENVIRONMENT, else 'local' */
  readonly environment?: string;
  /** @default silentLogger */
  readonly logger?: ServerLogger;
}

/** A shipping prediction log, with a way to wait until what was appended so far is in the lake. */
export interface ShippingPredictionLog extends PredictionLogSink {
  /** The spool directory in use. */
  readonly spoolDirectory: string;
  /** The destination: `<storage location>/<prefix>`. */
  readonly destination: string;
}

/** How often sampling and dropping are reported while they go on. */
const WARNING_INTERVAL_MS = 10_000;

function defaultInstance(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the writer worker (after taking the spool and recovering what a previous server left there)
 * and returns the sink.
 * @throws InvalidOptionsError (every problem at once) · SpoolInUseError · an fs error when the spool cannot be created
 */
export async function openPredictionLog(options: PredictionLogOptions): Promise<ShippingPredictionLog> {
  const prefix = (options.prefix ?? PREDICTIONS_PREFIX).replace(/^\/+|\/+$/g, '');
  const storage = options.storage;
  const settings = {
    directory: path.resolve(
      options.spoolDirectory ??
        path.join(os.tmpdir(), 'retail-mlops-spool', createHash('sha256').update(`${storage?.location}/${prefix}`).digest('hex').slice(0, 16)),
      options.spoolSubdirectory ?? '',
    ),
    maxSegmentBytes: options.maxSegmentBytes ?? 32 * 1024 * 1024,
    maxSegmentAgeMs: options.maxSegmentAgeMs ?? 300_000,
    flushIntervalMs: options.flushIntervalMs ?? 250,
    instance: options.instance ?? defaultInstance(),
  };
  const maxPendingRecords = options.maxPendingRecords ?? 200_000;
  const samplingStartsAt = options.samplingStartsAt ?? 0.25;
  const minimumSampleRate = options.minimumSampleRate ?? 1 / 64;
  const maxSpoolBytes = options.maxSpoolBytes ?? 256 * 1024 * 1024;
  const retention: RetentionPolicy = { ...DEFAULT_RETENTION, ...options.retention };
  const retentionIntervalMs = options.retentionIntervalMs ?? 900_000;
  const uploadAttempts = options.uploadAttempts ?? 5;
  const uploadRetryDelayMs = options.uploadRetryDelayMs ?? 500;
  const uploadRetryRoundMs = options.uploadRetryRoundMs ?? 60_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 20_000;
  const environment = options.environment ?? telemetryEnvironment();
  const problems = new ProblemCollector('prediction log options');
  problems.check(typeof storage === 'object' && storage !== null && typeof storage.upload === 'function', 'storage must be an ObjectStorage (the lake\'s)');
  problems.check(!prefix.split('/').some((segment) => segment === '.' || segment === '..'), `prefix must be a relative key prefix, got ${JSON.stringify(options.prefix)}`);
  const integer = (name: string, value: number, minimum: number): void =>
    problems.check(Number.isInteger(value) && value >= minimum, `${name} must be an integer ≥ ${minimum}, got ${value}`);
  integer('maxSegmentBytes', settings.maxSegmentBytes, 1024);
  integer('maxSegmentAgeMs', settings.maxSegmentAgeMs, 100);
  integer('flushIntervalMs', settings.flushIntervalMs, 10);
  integer('maxPendingRecords', maxPendingRecords, 1);
  integer('maxSpoolBytes', maxSpoolBytes, 1024);
  integer('retentionIntervalMs', retentionIntervalMs, 0);
  integer('uploadAttempts', uploadAttempts, 1);
  integer('uploadRetryDelayMs', uploadRetryDelayMs, 1);
  integer('uploadRetryRoundMs', uploadRetryRoundMs, 10);
  integer('closeTimeoutMs', closeTimeoutMs, 0);
  problems.check(samplingStartsAt > 0 && samplingStartsAt <= 1, `samplingStartsAt must be in (0, 1], got ${samplingStartsAt}`);
  problems.check(
    minimumSampleRate > 0 && minimumSampleRate <= 1 && Number.isInteger(Math.log2(minimumSampleRate)),
    `minimumSampleRate must be a power of two in (0, 1] (1, 0.5, 0.25, …), got ${minimumSampleRate}`,
  );
  for (const problem of retentionProblems(retention)) problems.check(false, problem);
  problems.check(/^[A-Za-z0-9._-]{1,64}$/.test(settings.instance), `instance must be 1–64 letters, digits, '.', '_', '-', got ${JSON.stringify(settings.instance)}`);
  problems.throwIfAny();
  const logger = options.logger ?? silentLogger;
  const secrets = new Set(options.secrets ?? []);

  const releaseSpool = await lockSpool(settings.directory);
  const shipper = new SegmentShipper({
    storage,
    prefix,
    attempts: uploadAttempts,
    retryDelayMs: uploadRetryDelayMs,
    retryRoundMs: uploadRetryRoundMs,
    maxSpoolBytes,
    retention,
    retentionIntervalMs,
    environment,
    logger,
  });
  const worker = launchWorker(__dirname, 'log-writer-worker');
  worker.unref();
  let written = 0;
  let dropped = 0;
  let sampledOut = 0;
  let pending = 0;
  let failed = false;
  let closedResolve: (() => void) | undefined;
  const post = (message: LogWriterRequest, transfer: ArrayBuffer[] = []): void => worker.postMessage(message, transfer);

  // sampling and dropping are reported at most every WARNING_INTERVAL_MS, with what happened since
  const warned = { sampling: 0, dropping: 0 };
  const sinceWarning = { sampledOut: 0, dropped: 0, lowestRate: 1 };
  const warn = (now: number): void => {
    if (sinceWarning.dropped > 0 && now - warned.dropping >= WARNING_INTERVAL_MS) {
      warned.dropping = now;
      logger.log('warn', TELEMETRY_EVENTS.predictionLogDropping.name, {
        environment,
        dropped: sinceWarning.dropped,
        reason: failed ? 'writer-failed' : 'backlog',
        detail: failed ? 'the prediction-log writer failed: predictions are not logged' : `more than ${maxPendingRecords} records waited for the writer even sampling at ${minimumSampleRate}`,
      });
      sinceWarning.dropped = 0;
    }
    if (sinceWarning.sampledOut > 0 && now - warned.sampling >= WARNING_INTERVAL_MS) {
      warned.sampling = now;
      logger.log('warn', TELEMETRY_EVENTS.predictionLogSampling.name, {
        environment,
        sampleRate: sinceWarning.lowestRate,
        sampledOut: sinceWarning.sampledOut,
        detail: 'the prediction-log writer is behind: only a deterministic sample of predictions is logged, each record with its rate',
      });
      sinceWarning.sampledOut = 0;
      sinceWarning.lowestRate = 1;
    }
  };
  const drop = (rows: number): void => {
    dropped += rows;
    sinceWarning.dropped += rows;
    warn(Date.now());
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: LogWriterResponse) => {
      switch (message.type) {
        case 'ready':
          for (const segment of message.recovered) shipper.add(segment);
          if (message.recovered.length > 0) logger.log('info', 'prediction-log.recovered', { segments: message.recovered.length, spool: settings.directory });
          resolve();
          return;
        case 'written':
          written += message.records;
          pending -= message.records + message.failed;
          if (message.failed > 0) {
            logger.log('warn', 'prediction-log.write-failed', { records: message.failed, error: message.error });
            drop(message.failed);
          }
          return;
        case 'segment':
          shipper.add(message.segment);
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
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    await releaseSpool();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    spoolDirectory: settings.directory,
    destination: prefix ? `${storage.location}/${prefix}` : storage.location,
    append(batch: PredictionLogBatch) {
      const rows = batch.labels.length;
      if (rows === 0) return;
      if (failed || closing) {
        drop(rows);
        return;
      }
      const rate = sampleRateFor(pending / maxPendingRecords, samplingStartsAt, minimumSampleRate);
      const kept = rate < 1 ? sample(batch, rate) : undefined;
      const keptRows = kept ? kept.labels.length : rows;
      if (kept) {
        sampledOut += rows - keptRows;
        sinceWarning.sampledOut += rows - keptRows;
        sinceWarning.lowestRate = Math.min(sinceWarning.lowestRate, rate);
        warn(Date.now());
      }
      if (pending + keptRows > maxPendingRecords) {
        drop(keptRows);
        return;
      }
      if (keptRows === 0) return;
      pending += keptRows;
      const requestIds = secrets.size > 0 ? (kept ?? batch).requestIds.map((id) => (secrets.has(id) ? 'redacted' : id)) : (kept ?? batch).requestIds;
      let message: SampledBatch;
      if (kept) {
        message = { ...kept, requestIds, rate };
      } else {
        // the feature buffer is the sink's (transferred); probabilities and labels are still read by the responses: copied
        message = { ...batch, requestIds, probabilities: batch.probabilities.slice(), labels: batch.labels.slice(), rate: 1 };
      }
      const transfer = [message.features.buffer, message.probabilities.buffer, message.labels.buffer, message.basketIds?.buffer].filter(
        (buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer,
      );
      post({ type: 'batch', batch: message }, [...new Set(transfer)]);
    },
    stats: (): PredictionLogStats => {
      const shipped = shipper.stats();
      return { written, dropped: dropped + shipped.droppedRecords, sampledOut, pending, shippedSegments: shipped.shippedSegments, waitingSegments: shipped.waitingSegments };
    },
    close() {
      closing ??= (async () => {
        const deadline = Date.now() + closeTimeoutMs;
        if (!failed) {
          const closed = new Promise<void>((resolve) => {
            closedResolve = resolve;
          });
          post({ type: 'close' });
          await closed;
        }
        await worker.terminate();
        warned.dropping = 0;
        warned.sampling = 0;
        warn(Date.now());
        await shipper.drain(deadline);
        await releaseSpool();
      })();
      return closing;
    },
  };
}

/** The rows of `batch` in the deterministic sample at `rate`, compacted into new buffers. */
function sample(batch: PredictionLogBatch, rate: number): Omit<SampledBatch, 'rate'> {
  const rows = batch.labels.length;
  const classCount = rows > 0 ? batch.probabilities.length / rows : 0;
  const keep = new Uint8Array(rows);
  const rowsPerRequest: number[] = [];
  const requestIds: string[] = [];
  let kept = 0;
  let row = 0;
  for (let request = 0; request < batch.requestIds.length; request++) {
    const hash = hashRequestId(batch.requestIds[request]);
    let keptHere = 0;
    for (let index = 0; index < batch.rowsPerRequest[request]; index++, row++) {
      if (isSampled(hash, index, rate)) {
        keep[row] = 1;
        keptHere += 1;
      }
    }
    if (keptHere > 0) {
      requestIds.push(batch.requestIds[request]);
      rowsPerRequest.push(keptHere);
      kept += keptHere;
    }
  }
  const features = new Float32Array(kept * batch.featureCount);
  const probabilities = new Float32Array(kept * classCount);
  const labels = new Uint8Array(kept);
  const indexes = new Uint32Array(kept);
  const basketIds = batch.basketIds ? new Float64Array(kept) : undefined;
  let at = 0;
  row = 0;
  for (let request = 0; request < batch.requestIds.length; request++) {
    for (let index = 0; index < batch.rowsPerRequest[request]; index++, row++) {
      if (!keep[row]) continue;
      features.set(batch.features.subarray(row * batch.featureCount, (row + 1) * batch.featureCount), at * batch.featureCount);
      probabilities.set(batch.probabilities.subarray(row * classCount, (row + 1) * classCount), at * classCount);
      labels[at] = batch.labels[row];
      indexes[at] = index;
      if (basketIds) basketIds[at] = batch.basketIds![row];
      at += 1;
    }
  }
  return { ...batch, requestIds, rowsPerRequest: Uint32Array.from(rowsPerRequest), features, probabilities, labels, indexes, basketIds };
}
