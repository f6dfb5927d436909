/**
 * Control-plane state kept in a JSON file (`npm run emulate -- … --data DIR`), so a restarted
 * emulator still knows its training jobs, model packages and resources. Writes are whole-file and
 * atomic (temp file, then rename); the control planes are small, so each change rewrites it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EmulatorError } from './errors';
import { temporaryPathFor } from '../../core/files/write-atomically';

/** The saved state, or undefined when the file does not exist. */
export function loadStateFile<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmulatorError(`cannot read the emulator state ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new EmulatorError(`the emulator state ${file} is not JSON (remove it to start empty): ${(error as Error).message}`, { cause: error });
  }
}

export function saveStateFile(file: string, state: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = temporaryPathFor(file);
  writeFileSync(temporary, `${JSON.stringify(state, null, 1)}\n`);
  renameSync(temporary, file);
}
