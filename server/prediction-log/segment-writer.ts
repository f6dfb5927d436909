/**
 * Writes prediction-log segments into a local spool directory: the open segment is
 * `<name>.jsonl.partial` (header line first, then whole record lines); a segment is complete when it
 * would pass a size, has been open too long, the model changes, or the log closes: it is then
 * gzip-compressed to `<name>.jsonl.gz` (temporary file, then rename) and the partial file removed —
 * level 1: a third of the text's size for a quarter of level 6's time (level 6 saves 13% more).
 * Complete segments wait in the spool until the shipper has uploaded them. After a crash,
 * `recoverSpool` completes what a previous process left (cutting a torn last line).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { encodeSegmentHeader, parseSegmentName, segmentName } from '../../core/monitoring/prediction-segments';

export const PARTIAL_SUFFIX = '.partial';

/** A complete segment in the spool. */
export interface CompletedSegment {
  /** `predictions-….jsonl.gz` */
  readonly name: string;
  /** Its path in the spool. */
  readonly file: string;
  readonly records: number;
  /** Compressed size. */
  readonly bytes: number;
}

export interface SegmentWriterOptions {
  readonly directory: string;
  /** A segment completes before it would pass this many (uncompressed) bytes. */
  readonly maxSegmentBytes: number;
  /** … or once it has been open this long (ms). */
  readonly maxSegmentAgeMs: number;
  /** Part of every name: unique per writer process. */
  readonly instance: string;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** What a segment's header says; a record of another model starts a new segment. */
export interface SegmentIdentity {
  readonly modelVersion: string;
  readonly featureSpecVersion: string;
  readonly classes: readonly string[];
}

interface OpenSegment {
  readonly handle: FileHandle;
  readonly name: string;
  readonly partial: string;
  readonly identity: SegmentIdentity;
  readonly openedAt: number;
  bytes: number;
  records: number;
}

export class SegmentWriter {
  private segment: OpenSegment | undefined;
  private sequence = 0;

  constructor(private readonly options: SegmentWriterOptions) {}

  /**
   * Appends whole record lines of one model, completing the open segment first when they would not
   * fit, it is too old, or it belongs to another model. Returns the segment completed, if any.
   */
  async write(identity: SegmentIdentity, text: string, records: number): Promise<CompletedSegment | undefined> {
    const bytes = Buffer.byteLength(text);
    let completed: CompletedSegment | undefined;
    const current = this.segment;
    if (current && current.records > 0 && (current.bytes + bytes > this.options.maxSegmentBytes || this.isOld(current) || !sameIdentity(current.identity, identity))) {
      completed = await this.complete();
    } else if (current && !sameIdentity(current.identity, identity)) {
      // an empty segment of another model: drop it
      await this.discard();
    }
    const segment = this.segment ?? (await this.openSegment(identity));
    await segment.handle.write(text);
    segment.bytes += bytes;
    segment.records += records;
    return completed;
  }

  /** Completes the open segment if it holds records and is too old (a timer calls it, so an idle log still ships). */
  async completeIfOld(): Promise<CompletedSegment | undefined> {
    if (this.segment && this.segment.records > 0 && this.isOld(this.segment)) return this.complete();
    return undefined;
  }

  /** Completes the open segment (an empty one is removed). */
  async close(): Promise<CompletedSegment | undefined> {
    if (!this.segment) return undefined;
    if (this.segment.records === 0) {
      await this.discard();
      return undefined;
    }
    return this.complete();
  }

  private isOld(segment: OpenSegment): boolean {
    return this.options.now() - segment.openedAt >= this.options.maxSegmentAgeMs;
  }

  private async openSegment(identity: SegmentIdentity): Promise<OpenSegment> {
    await mkdir(this.options.directory, { recursive: true });
    const openedAt = this.options.now();
    this.sequence += 1;
    const name = segmentName(openedAt, this.options.instance, this.sequence);
    const partial = path.join(this.options.directory, partialName(name));
    const handle = await open(partial, 'wx');
    const header = encodeSegmentHeader({ instance: this.options.instance, ...identity });
    await handle.write(header);
    this.segment = { handle, name, partial, identity, openedAt, bytes: Buffer.byteLength(header), records: 0 };
    return this.segment;
  }

  private async discard(): Promise<void> {
    const segment = this.segment!;
    this.segment = undefined;
    await segment.handle.close();
    await rm(segment.partial, { force: true });
  }

  private async complete(): Promise<CompletedSegment> {
    const segment = this.segment!;
    this.segment = undefined;
    await segment.handle.close();
    return compressSegment(this.options.directory, segment.name, segment.records);
  }
}

function sameIdentity(a: SegmentIdentity, b: SegmentIdentity): boolean {
  return a.modelVersion === b.modelVersion && a.featureSpecVersion === b.featureSpecVersion && a.classes.join() === b.classes.join();
}

/** `predictions-….jsonl.gz` → `predictions-….jsonl.partial` */
function partialName(name: string): string {
  return `${name.slice(0, -'.gz'.length)}${PARTIAL_SUFFIX}`;
}

/** gzip `<name>.jsonl.partial` → `<name>.jsonl.gz` (temporary file, then rename), then removes the partial file. */
async function compressSegment(directory: string, name: string, records: number): Promise<CompletedSegment> {
  const partial = path.join(directory, partialName(name));
  const file = path.join(directory, name);
  const temporary = `${file}.tmp`;
  await pipeline(createReadStream(partial), createGzip({ level: 1 }), createWriteStream(temporary));
  await rename(temporary, file);
  await rm(partial, { force: true });
  return { name, file, records, bytes: (await stat(file)).size };
}

/**
 * Completes what a previous process left in the spool (call it only while no other writer uses the
 * directory): partial segments are cut after their last whole line and compressed (those holding no
 * record removed), half-written compressions removed. Returns every complete segment in the spool,
 * oldest first.
 */
export async function recoverSpool(directory: string): Promise<CompletedSegment[]> {
  await mkdir(directory, { recursive: true });
  for (const entry of await readdir(directory)) {
    const file = path.join(directory, entry);
    if (entry.endsWith('.jsonl.gz.tmp')) {
      await rm(file, { force: true });
      continue;
    }
    if (!entry.endsWith(`.jsonl${PARTIAL_SUFFIX}`)) continue;
    const name = `${entry.slice(0, -PARTIAL_SUFFIX.length)}.gz`;
    if (!parseSegmentName(name)) continue;
    const text = await readFile(file);
    const end = text.lastIndexOf(0x0a) + 1;
    const records = countLines(text.subarray(0, end)) - 1;
    if (records <= 0) {
      await rm(file, { force: true });
      continue;
    }
    if (end < text.length) await truncate(file, end);
    await compressSegment(directory, name, records);
  }
  const segments: CompletedSegment[] = [];
  for (const entry of (await readdir(directory)).sort(bySegmentTime)) {
    if (!parseSegmentName(entry)) continue;
    const file = path.join(directory, entry);
    // the record count of a segment from an earlier run is unknown without reading it: -1
    segments.push({ name: entry, file, records: -1, bytes: (await stat(file)).size });
  }
  return segments;
}

/** Orders segment names by opening time, then instance and sequence. */
export function bySegmentTime(a: string, b: string): number {
  const left = parseSegmentName(a);
  const right = parseSegmentName(b);
  if (!left || !right) return a < b ? -1 : a > b ? 1 : 0;
  return left.openedAt - right.openedAt || (left.instance < right.instance ? -1 : left.instance > right.instance ? 1 : left.sequence - right.sequence);
}

function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let index = 0; index < bytes.length; index++) if (bytes[index] === 0x0a) lines += 1;
  return lines;
}
