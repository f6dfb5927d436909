/**
 * The prediction-log writer's entry point (a worker thread): formats the batches the server hands
 * over as JSON lines and appends them to rotating files, so neither formatting nor disk I/O runs on
 * the server's event loop. Started by openPredictionLog (file-log.ts), never imported.
 */
import { parentPort } from 'node:worker_threads';
import type { LogWriterRequest, LogWriterResponse, WriterSettings } from './protocol';
import { RotatingFileWriter } from './rotating-file-writer';
import { predictionLogRecords, type PredictionLogBatch } from './sink';

/** Lines are written once this much is buffered, or on the flush interval. */
const WRITE_CHUNK_BYTES = 1 << 20;

function startLogWriter(port: NonNullable<typeof parentPort>): void {
  let writer: RotatingFileWriter | undefined;
  let settings: WriterSettings | undefined;
  let lines: string[] = [];
  let bufferedBytes = 0;
  let bufferedRecords = 0;
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const send = (message: LogWriterResponse): void => port.postMessage(message);

  const flush = (): Promise<void> => {
    if (bufferedRecords === 0 || !writer) return writing;
    const text = lines.join('');
    const records = bufferedRecords;
    lines = [];
    bufferedBytes = 0;
    bufferedRecords = 0;
    const target = writer;
    writing = writing.then(async () => {
      try {
        await target.write(text);
        send({ type: 'written', records, failed: 0 });
      } catch (error) {
        send({ type: 'written', records: 0, failed: records, error: (error as Error).message });
      }
    });
    return writing;
  };

  const append = (batch: PredictionLogBatch): void => {
    for (const record of predictionLogRecords(batch)) {
      const line = `${JSON.stringify(record)}\n`;
      lines.push(line);
      bufferedBytes += line.length;
      bufferedRecords += 1;
    }
    if (bufferedBytes >= WRITE_CHUNK_BYTES) void flush();
  };

  port.on('message', (message: LogWriterRequest) => {
    switch (message.type) {
      case 'init':
        settings = message.settings;
        writer = new RotatingFileWriter({ ...settings, now: Date.now });
        timer = setInterval(() => {
          void flush();
          const target = writer!;
          writing = writing.then(() => target.rotateIfOld()).catch(() => undefined);
        }, settings.flushIntervalMs);
        send({ type: 'ready' });
        return;
      case 'batch':
        append(message.batch);
        return;
      case 'close':
        if (timer) clearInterval(timer);
        void flush()
          .then(() => writing)
          .then(() => writer?.close())
          .catch(() => undefined)
          .then(() => send({ type: 'closed' }));
        return;
    }
  });
}

if (parentPort) startLogWriter(parentPort);
