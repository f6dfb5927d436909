import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors';
import { detectHeaderVariant, type HeaderVariant } from '../schema/lgsr';

/** An input file as ingest sees it before reading its rows. */
export interface InputFile {
  readonly path: string;
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly gzip: boolean;
  readonly variant: HeaderVariant;
}

const DATA_FILE = /\.csv(\.gz)?$/i;

/** True for the files ingest takes from a directory: `.csv` and `.csv.gz`. */
export function isDataFile(name: string): boolean {
  return DATA_FILE.test(name);
}

/** Hashes a file and reads its header; throws an InputError when it is not an LGSR file. */
export async function describeInputFile(file: string): Promise<InputFile> {
  const stat = await fs.stat(file).catch((error: unknown) => {
    throw new InputError(`${file}: cannot read (${(error as Error).message})`);
  });
  if (!stat.isFile()) throw new InputError(`${file}: not a file`);
  const gzip = await isGzip(file);
  const [sha256, headerLine] = await Promise.all([hashFile(file), readFirstLine(file, gzip)]);
  const variant = detectHeaderVariant(headerLine);
  if (!variant) {
    throw new InputError(`${file}: not an LGSR file (its first line is not one of the two LGSR headers: '${headerLine.slice(0, 120)}')`);
  }
  return { path: path.resolve(file), name: path.basename(file), bytes: stat.size, sha256, gzip, variant };
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The first line (decoded as UTF-8, without the line break), reading only what it needs. */
async function readFirstLine(file: string, gzip: boolean): Promise<string> {
  const source = createReadStream(file, { highWaterMark: 64 * 1024 });
  const stream = gzip ? source.pipe(createGunzip()) : source;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      const newline = buffer.indexOf(10);
      if (newline >= 0) {
        chunks.push(buffer.subarray(0, newline));
        break;
      }
      chunks.push(buffer);
      length += buffer.length;
      if (length > 64 * 1024) break;
    }
  } catch (error) {
    throw new InputError(`${file}: cannot decompress (${(error as Error).message})`, { cause: error });
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r$/, '');
}

/** Where a quarantined row sits in its file, and its text as received. */
export interface LocatedLine {
  readonly line: number;
  readonly raw: string;
}

/**
 * One streaming pass over a file that maps data-row indexes (the order DuckDB's CSV reader
 * returns accepted rows) and physical line numbers (what DuckDB reports for rejected lines) to
 * line numbers and raw text. Header, blank lines and rejected lines produce no data row; a quoted
 * field spanning lines continues its record.
 */
export async function locateLines(
  input: Pick<InputFile, 'path' | 'gzip'>,
  rejectedLines: ReadonlySet<number>,
  wantedRows: ReadonlySet<number>,
): Promise<{ readonly rows: Map<number, LocatedLine>; readonly lines: Map<number, string> }> {
  const rows = new Map<number, LocatedLine>();
  const lines = new Map<number, string>();
  const source = createReadStream(input.path, { highWaterMark: 1 << 20 });
  const stream = input.gzip ? source.pipe(createGunzip()) : source;
  let lineNumber = 0;
  let rowIndex = -1;
  let openQuote = false;
  let pending: Buffer | undefined;
  let remaining = wantedRows.size + rejectedLines.size;

  const visit = (bytes: Buffer): void => {
    lineNumber += 1;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    const continuing = openQuote;
    if (countQuotes(bytes, end) % 2 === 1) openQuote = !openQuote;
    if (lineNumber === 1 || continuing) return;
    if (rejectedLines.has(lineNumber)) {
      lines.set(lineNumber, bytes.toString('utf8', 0, end));
      remaining -= 1;
      return;
    }
    if (end === 0) return;
    rowIndex += 1;
    if (wantedRows.has(rowIndex)) {
      rows.set(rowIndex, { line: lineNumber, raw: bytes.toString('utf8', 0, end) });
      remaining -= 1;
    }
  };

  try {
    for await (const chunk of stream) {
      let buffer = chunk as Buffer;
      if (pending) {
        buffer = Buffer.concat([pending, buffer]);
        pending = undefined;
      }
      let start = 0;
      for (let newline = buffer.indexOf(10, start); newline >= 0; newline = buffer.indexOf(10, start)) {
        visit(buffer.subarray(start, newline));
        start = newline + 1;
      }
      if (start < buffer.length) pending = Buffer.from(buffer.subarray(start));
      if (remaining <= 0) break;
    }
    if (pending && remaining > 0) visit(pending);
  } finally {
    source.destroy();
  }
  return { rows, lines };
}

function countQuotes(bytes: Buffer, end: number): number {
  let count = 0;
  for (let index = bytes.indexOf(34); index >= 0 && index < end; index = bytes.indexOf(34, index + 1)) count += 1;
  return count;
}
