/**
 * The prediction-log writer's entry point (a worker thread): formats the batches the server hands
 * over as compact record lines and appends them to segments in the spool (segment-writer.ts), so
 * neither formatting, disk I/O nor compression runs on the server's event loop. Reports every
 * completed segment to the main thread, which ships it. Started by openPredictionLog, never imported.
 */
import { parentPort } from 'node:worker_threads';
import type { LogWriterRequest, LogWriterResponse, SampledBatch } from './protocol';
import { recoverSpool, SegmentWriter, type CompletedSegment, type SegmentIdentity } from './segment-writer';
import { encodeRecords } from '../../core/monitoring/prediction-segments';
import { PRICE_SENSITIVITY_CLASSES } from '../../core/schema/lgsr';

/** Lines are written once this much is buffered, or on the flush interval. */
const WRITE_CHUNK_BYTES = 1 << 20;

interface Buffered {
  readonly identity: SegmentIdentity;
  lines: string[];
  bytes: number;
  records: number;
}

function startLogWriter(port: NonNullable<typeof parentPort>): void {
  let writer: SegmentWriter | undefined;
  let buffered: Buffered | undefined;
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const send = (message: LogWriterResponse): void => port.postMessage(message);
  const shipped = (segment: CompletedSegment | undefined): void => {
    if (segment) send({ type: 'segment', segment });
  };

  /** Queues the buffered lines for writing (writes run one after another). */
  const flush = (): Promise<void> => {
    if (!buffered || buffered.records === 0 || !writer) return writing;
    const { identity, lines, records } = buffered;
    buffered = undefined;
    const target = writer;
    writing = writing.then(async () => {
      try {
        shipped(await target.write(identity, lines.join(''), records));
        send({ type: 'written', records, failed: 0 });
      } catch (error) {
        send({ type: 'written', records: 0, failed: records, error: (error as Error).message });
      }
    });
    return writing;
  };

  const append = (batch: SampledBatch): void => {
    const identity: SegmentIdentity = { modelVersion: batch.modelVersion, featureSpecVersion: batch.featureSpecVersion, classes: PRICE_SENSITIVITY_CLASSES };
    if (buffered && buffered.identity.modelVersion !== identity.modelVersion) void flush();
    const text = encodeRecords({ ...batch, classCount: PRICE_SENSITIVITY_CLASSES.length });
    buffered ??= { identity, lines: [], bytes: 0, records: 0 };
    buffered.lines.push(text);
    buffered.bytes += text.length;
    buffered.records += batch.labels.length;
    if (buffered.bytes >= WRITE_CHUNK_BYTES) void flush();
  };

  port.on('message', (message: LogWriterRequest) => {
    switch (message.type) {
      case 'init': {
        const settings = message.settings;
        writer = new SegmentWriter({ ...settings, now: Date.now });
        recoverSpool(settings.directory).then(
          (recovered) => {
            timer = setInterval(() => {
              void flush();
              const target = writer!;
              writing = writing.then(async () => shipped(await target.completeIfOld())).catch(() => undefined);
            }, settings.flushIntervalMs);
            send({ type: 'ready', recovered });
          },
          (error: Error) => {
            throw error;
          },
        );
        return;
      }
      case 'batch':
        append(message.batch);
        return;
      case 'close':
        if (timer) clearInterval(timer);
        void flush()
          .then(() => writing)
          .then(async () => shipped(await writer?.close()))
          .catch(() => undefined)
          .then(() => send({ type: 'closed' }));
        return;
    }
  });
}

if (parentPort) startLogWriter(parentPort);
