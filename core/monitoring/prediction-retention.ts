/**
 * Retention of the shipped prediction log: segments older than an age, then the oldest while the
 * log is above a size, are deleted. The API pods apply it to the lake now and then, and
 * `retail-mlops monitor` on every run; deletes are idempotent, so several doing it at once is harmless.
 */
import { parseSegmentName } from './prediction-segments';
import type { ObjectStorage } from '../storage/port';

export interface RetentionPolicy {
  /** Segments opened longer ago than this are deleted. @default 7 days */
  readonly maxAgeMs: number;
  /** Beyond this many bytes the oldest segments are deleted. @default 5 GiB */
  readonly maxBytes: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxAgeMs: 7 * 24 * 3_600_000, maxBytes: 5 * 1024 ** 3 };

export interface RetentionOutcome {
  readonly deletedSegments: number;
  readonly deletedBytes: number;
  readonly keptSegments: number;
  readonly keptBytes: number;
}

/** Problems of a policy (empty when valid). */
export function retentionProblems(policy: RetentionPolicy, label = 'retention'): string[] {
  const problems: string[] = [];
  if (!(Number.isFinite(policy.maxAgeMs) && policy.maxAgeMs > 0)) problems.push(`${label} maxAge must be a positive duration, got ${policy.maxAgeMs} ms`);
  if (!(Number.isFinite(policy.maxBytes) && policy.maxBytes > 0)) problems.push(`${label} maxBytes must be a positive number of bytes, got ${policy.maxBytes}`);
  return problems;
}

/** Applies `policy` to the segments below `prefix` (other objects are left alone), oldest first. */
export async function applyRetention(storage: ObjectStorage, prefix: string, policy: RetentionPolicy, now: number = Date.now()): Promise<RetentionOutcome> {
  const listed = await storage.list(prefix.length > 0 ? `${prefix}/` : '');
  const segments = listed
    .map((object) => ({ ...object, parsed: parseSegmentName(object.key.slice(object.key.lastIndexOf('/') + 1)) }))
    .filter((object) => object.parsed !== undefined)
    .sort((a, b) => a.parsed!.openedAt - b.parsed!.openedAt || (a.key < b.key ? -1 : 1));
  let total = segments.reduce((sum, object) => sum + object.size, 0);
  const doomed: string[] = [];
  let deletedBytes = 0;
  for (const segment of segments) {
    if (now - segment.parsed!.openedAt > policy.maxAgeMs || total > policy.maxBytes) {
      doomed.push(segment.key);
      deletedBytes += segment.size;
      total -= segment.size;
    }
  }
  for (let start = 0; start < doomed.length; start += 1000) await storage.delete(doomed.slice(start, start + 1000));
  return { deletedSegments: doomed.length, deletedBytes, keptSegments: segments.length - doomed.length, keptBytes: total };
}
