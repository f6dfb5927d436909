import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { temporaryPathFor, writeFileAtomically } from '../files/write-atomically';

/** A sibling temp path: same directory, so the final rename is atomic on POSIX file systems. */
export const tempSibling = temporaryPathFor;

/** Writes a file atomically (temp + fsync + rename), creating its directory when missing. */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(finalPath), { recursive: true });
  await writeFileAtomically(finalPath, data);
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
