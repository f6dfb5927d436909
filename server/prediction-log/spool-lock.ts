/**
 * One server process per spool directory: it holds `<spool>/.lock` (its pid and host). A lock left
 * by a process that is gone — another pid that no longer runs, or this very pid (a restarted
 * container is pid 1 again) — is taken over, and what that process left in the spool is shipped.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { RetailMlopsError } from '../../core/errors';
import { isProcessAlive } from '../../core/files/process-liveness';

/** Another live server uses the spool directory. */
export class SpoolInUseError extends RetailMlopsError {
  constructor(readonly directory: string, readonly pid: number) {
    super('SPOOL_IN_USE', `the prediction-log spool ${directory} is in use by process ${pid}: give this server another spool directory`);
  }
}

interface LockContent {
  readonly pid: number;
  readonly host: string;
}

/** Spools held by this process (a lock file naming this pid may be a restarted container's predecessor's). */
const heldHere = new Set<string>();

/** Takes the spool's lock; returns its release. @throws SpoolInUseError */
export async function lockSpool(directory: string): Promise<() => Promise<void>> {
  const resolved = path.resolve(directory);
  if (heldHere.has(resolved)) throw new SpoolInUseError(resolved, process.pid);
  heldHere.add(resolved);
  try {
    const release = await takeLock(resolved);
    return async () => {
      await release();
      heldHere.delete(resolved);
    };
  } catch (error) {
    heldHere.delete(resolved);
    throw error;
  }
}

async function takeLock(directory: string): Promise<() => Promise<void>> {
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, '.lock');
  const mine: LockContent = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(mine));
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockContent | undefined;
    try {
      holder = JSON.parse(await readFile(file, 'utf8')) as LockContent;
    } catch {
      holder = undefined; // torn or vanished: stale
    }
    if (holder && holder.host === mine.host && holder.pid !== mine.pid && isProcessAlive(holder.pid)) throw new SpoolInUseError(directory, holder.pid);
    await rm(file, { force: true });
  }
  throw new SpoolInUseError(directory, -1);
}
