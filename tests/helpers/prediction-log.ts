/**
 * The shipped prediction log in tests: a log that ships into a directory (local object storage, the
 * segments directly below it, a spool of its own), and the records found below a directory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeSegment, parseSegmentName, type PredictionRecord, type SegmentHeader } from '../../core/monitoring/prediction-segments';
import { createLocalObjectStorage } from '../../providers/local/object-storage';
import { openPredictionLog, type PredictionLogOptions, type ShippingPredictionLog } from '../../server/prediction-log/prediction-log';

/** A log shipping into `directory` (segments below `<directory>/date=…/`), spooling in `<directory>.spool`. */
export function openDirectoryPredictionLog(directory: string, options: Partial<PredictionLogOptions> = {}): Promise<ShippingPredictionLog> {
  return openPredictionLog({ storage: createLocalObjectStorage({ root: directory }), prefix: '', spoolDirectory: `${directory}.spool`, retentionIntervalMs: 0, ...options });
}

/** Every segment file below `directory` (its path relative to it), sorted. */
export function segmentFiles(directory: string): string[] {
  return (readdirSync(directory, { recursive: true }) as string[]).filter((file) => parseSegmentName(path.basename(file)) !== undefined).sort();
}

/** Every record of every segment below `directory`, with its segment's header. */
export function shippedRecords(directory: string): (PredictionRecord & { readonly header: SegmentHeader })[] {
  return segmentFiles(directory).flatMap((file) => {
    const { header, records } = decodeSegment(gunzipSync(readFileSync(path.join(directory, file))).toString('utf8'));
    return records.map((record) => ({ ...record, header }));
  });
}
