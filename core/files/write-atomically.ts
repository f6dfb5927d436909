/**
 * Writing a file so that readers see either the old content or the whole new content, never a
 * partial file: write a temporary file beside the target, flush it to disk, rename it into place.
 * The one home of atomic file writes (writers that stream, such as DuckDB's COPY, write to
 * `temporaryPathFor(target)` and rename it themselves).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

/** A unique name beside `target` for its temporary copy (same directory, so the rename is atomic). */
export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

export interface WriteAtomicallyOptions {
  /** Create the target's directory (and its parents) when missing. @default false (the directory must exist) */
  readonly createDirectory?: boolean;
}

/** Writes `content` to `target` atomically (temp file + fsync + rename). */
export async function writeFileAtomically(target: string, content: string | Uint8Array, options: WriteAtomicallyOptions = {}): Promise<void> {
  if (options.createDirectory) await mkdir(path.dirname(target), { recursive: true });
  const temporary = temporaryPathFor(target);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
