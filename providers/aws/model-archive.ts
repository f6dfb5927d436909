/**
 * Reads SageMaker's model.tar.gz: gzip, then a tar archive (ustar, with GNU long names and pax
 * headers handled), in memory. Model archives of the built-in XGBoost hold one small file.
 */
import { gunzipSync } from 'node:zlib';
import { RetailMlopsError } from '../../core/errors';

/** The archive is not a gzip'd tar, or lacks the expected file. */
export class ModelArchiveError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('MODEL_ARCHIVE_INVALID', message, options);
  }
}

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(header: Uint8Array, offset: number, length: number): number {
  if ((header[offset] & 0x80) !== 0) {
    // GNU base-256 for sizes ≥ 8 GiB
    let value = 0;
    for (let index = offset + 1; index < offset + length; index++) value = value * 256 + header[index];
    return value;
  }
  const text = field(header, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The regular files of a tar archive (path → bytes), paths without a leading './'. */
export function readTarEntries(tar: Uint8Array): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  let offset = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    let checksum = 0;
    for (let index = 0; index < BLOCK; index++) checksum += index >= 148 && index < 156 ? 0x20 : header[index];
    if (checksum !== octal(header, 148, 8)) throw new ModelArchiveError(`tar header at byte ${offset} has a bad checksum`);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = field(header, 345, 155);
    const name = longName ?? paxPath ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new ModelArchiveError(`tar entry '${name}' runs past the end of the archive`);
    const content = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = Buffer.from(content).toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(content).toString('utf8'));
      paxPath = match?.[1];
      continue;
    }
    longName = undefined;
    paxPath = undefined;
    if (type === '0' || type === '7') entries.set(name.replace(/^\.\//, ''), new Uint8Array(content));
  }
  return entries;
}

/**
 * One file from a gzip'd tar archive, by name (matched on the path's last segment when no entry has the exact path).
 * @throws ModelArchiveError
 */
export function extractFromModelArchive(archive: Uint8Array, name: string): Uint8Array {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch (error) {
    throw new ModelArchiveError(`model.tar.gz is not gzip data: ${(error as Error).message}`, { cause: error });
  }
  const entries = readTarEntries(tar);
  const exact = entries.get(name);
  if (exact) return exact;
  const byBaseName = [...entries].filter(([path]) => path.split('/').at(-1) === name);
  if (byBaseName.length === 1) return byBaseName[0][1];
  throw new ModelArchiveError(`model.tar.gz has no single '${name}' (it holds: ${[...entries.keys()].join(', ') || 'nothing'})`);
}
