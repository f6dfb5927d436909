/**
 * Ships complete prediction-log segments from the spool to the lake's object storage
 * (`<prefix>/date=…/<segment>`): one upload at a time, retried with backoff, the local file removed
 * only once the upload succeeded. A segment's key is fixed by its name, so a retry after an upload
 * whose answer was lost writes the same object again, never a second copy. Segments whose upload keeps
 * failing wait in the spool (bounded: beyond `maxSpoolBytes` the oldest are dropped, and said so);
 * `drain` uploads everything before shutdown. Now and then it applies the retention policy to the lake.
 */
import { rm } from 'node:fs/promises';
import { applyRetention, type RetentionPolicy } from '../../core/monitoring/prediction-retention';
import { segmentKey } from '../../core/monitoring/prediction-segments';
import { TELEMETRY_EVENTS } from '../../core/monitoring/telemetry';
import type { ObjectStorage } from '../../core/storage/port';
import type { ServerLogger } from '../logger';
import { bySegmentTime, type CompletedSegment } from './segment-writer';

export interface SegmentShipperOptions {
  readonly storage: ObjectStorage;
  readonly prefix: string;
  /** Upload attempts per round before the segment waits for the next round. */
  readonly attempts: number;
  /** Delay before the first retry (doubling, at most 30 s). */
  readonly retryDelayMs: number;
  /** How long a segment whose round failed waits before the next round. */
  readonly retryRoundMs: number;
  /** Spool bytes beyond which the oldest waiting segments are dropped. */
  readonly maxSpoolBytes: number;
  readonly retention: RetentionPolicy;
  /** How often retention runs (0: never). */
  readonly retentionIntervalMs: number;
  readonly environment: string;
  readonly logger: ServerLogger;
}

export interface ShipperStats {
  readonly shippedSegments: number;
  readonly shippedRecords: number;
  readonly waitingSegments: number;
  /** Records of segments dropped from a full spool (segments of an earlier run count 0: their size is unknown). */
  readonly droppedRecords: number;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds).unref());

export class SegmentShipper {
  private readonly waiting: CompletedSegment[] = [];
  private running: Promise<void> | undefined;
  private roundTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<void> | undefined;
  private stopped = false;
  private shippedSegments = 0;
  private shippedRecords = 0;
  private droppedRecords = 0;

  constructor(private readonly options: SegmentShipperOptions) {
    if (options.retentionIntervalMs > 0) {
      this.retentionTimer = setInterval(() => this.runRetention(), options.retentionIntervalMs).unref();
    }
  }

  stats(): ShipperStats {
    return { shippedSegments: this.shippedSegments, shippedRecords: this.shippedRecords, waitingSegments: this.waiting.length, droppedRecords: this.droppedRecords };
  }

  /** Queues a complete segment for upload. */
  add(segment: CompletedSegment): void {
    this.waiting.push(segment);
    this.waiting.sort((a, b) => bySegmentTime(a.name, b.name));
    this.enforceSpoolBound();
    this.kick();
  }

  /** Uploads what waits, retrying until everything is shipped or `deadline` (epoch ms) passes; then stops. Returns the segments left unshipped. */
  async drain(deadline: number): Promise<number> {
    this.stopped = true;
    clearInterval(this.retentionTimer);
    clearTimeout(this.roundTimer);
    await this.running;
    let delay = this.options.retryDelayMs;
    while (this.waiting.length > 0 && Date.now() < deadline) {
      const segment = this.waiting[0];
      if (await this.upload(segment)) {
        delay = this.options.retryDelayMs;
        continue;
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 30_000);
    }
    await this.retentionRun;
    if (this.waiting.length > 0) {
      this.options.logger.log('error', TELEMETRY_EVENTS.predictionLogShipFailed.name, {
        environment: this.options.environment,
        segments: this.waiting.length,
        detail: 'shutdown: segments left in the spool unshipped (shipped by the next server using this spool, if it survives)',
      });
    }
    return this.waiting.length;
  }

  /** Applies the retention policy to the lake now (and returns when done). */
  runRetention(): Promise<void> {
    this.retentionRun ??= applyRetention(this.options.storage, this.options.prefix, this.options.retention)
      .then((outcome) => {
        if (outcome.deletedSegments > 0) this.options.logger.log('info', 'prediction-log.retention', { ...outcome });
      })
      .catch((error: Error) => this.options.logger.log('warn', 'prediction-log.retention-failed', { error }))
      .finally(() => {
        this.retentionRun = undefined;
      });
    return this.retentionRun;
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.stopped || this.waiting.length === 0) return;
      // what failed this round is retried later; what arrived meanwhile goes at once
      clearTimeout(this.roundTimer);
      this.roundTimer = setTimeout(() => this.kick(), this.options.retryRoundMs).unref();
    });
  }

  /** One pass over the waiting segments, each with its retries; stops at the first that will not go. */
  private async round(): Promise<void> {
    while (!this.stopped && this.waiting.length > 0) {
      const segment = this.waiting[0];
      let shipped = false;
      let delay = this.options.retryDelayMs;
      for (let attempt = 1; attempt <= this.options.attempts && !shipped && !this.stopped; attempt++) {
        shipped = await this.upload(segment, attempt === this.options.attempts);
        if (!shipped && attempt < this.options.attempts) {
          await sleep(delay);
          delay = Math.min(delay * 2, 30_000);
        }
      }
      if (!shipped) return;
    }
  }

  /** One upload of the oldest waiting segment; true when it is shipped (and gone from the spool). */
  private async upload(segment: CompletedSegment, reportFailure = true): Promise<boolean> {
    const key = segmentKey(this.options.prefix, segment.name);
    try {
      await this.options.storage.upload(key, segment.file, { contentType: 'application/gzip' });
    } catch (error) {
      if (reportFailure) {
        this.options.logger.log('warn', TELEMETRY_EVENTS.predictionLogShipFailed.name, {
          environment: this.options.environment,
          segments: this.waiting.length,
          key,
          location: this.options.storage.location,
          error: error as Error,
        });
      }
      return false;
    }
    const index = this.waiting.indexOf(segment);
    if (index >= 0) this.waiting.splice(index, 1);
    this.shippedSegments += 1;
    this.shippedRecords += Math.max(segment.records, 0);
    await rm(segment.file, { force: true });
    return true;
  }

  private enforceSpoolBound(): void {
    let total = this.waiting.reduce((sum, segment) => sum + segment.bytes, 0);
    let droppedSegments = 0;
    let droppedRecords = 0;
    // never the segment being uploaded (the first) while a round runs
    while (total > this.options.maxSpoolBytes && this.waiting.length > 1) {
      const victim = this.waiting.splice(this.running ? 1 : 0, 1)[0];
      total -= victim.bytes;
      droppedSegments += 1;
      droppedRecords += Math.max(victim.records, 0);
      void rm(victim.file, { force: true });
    }
    if (droppedSegments > 0) {
      this.droppedRecords += droppedRecords;
      this.options.logger.log('warn', TELEMETRY_EVENTS.predictionLogDropping.name, {
        environment: this.options.environment,
        dropped: droppedRecords,
        segments: droppedSegments,
        reason: 'spool-full',
        detail: `uploads to ${this.options.storage.location} are failing and the spool passed ${this.options.maxSpoolBytes} bytes: the oldest segments were dropped`,
      });
    }
  }
}
