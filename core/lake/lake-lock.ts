import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LakeError } from '../errors';

/** Options for taking a directory's exclusive writer lock. */
export interface DirectoryLockOptions {
  /** How long to wait for another writer before giving up, in ms. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * An exclusive writer lock on a directory: a `.lock` file created with O_EXCL holding the owner's
 * pid. A lock whose process is gone is stale and taken over, so a killed writer never blocks the
 * next one.
 */
export async function withDirectoryLock<T>(directory: string, body: () => Promise<T>, options: DirectoryLockOptions = {}): Promise<T> {
  const lockFile = path.join(directory, '.lock');
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  await fs.mkdir(directory, { recursive: true });
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await isStale(lockFile)) {
        await fs.rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LakeError(`${directory} is locked by another writer (${lockFile})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await body();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

async function isStale(lockFile: string): Promise<boolean> {
  let owner: number;
  try {
    owner = Number(await fs.readFile(lockFile, 'utf8'));
  } catch {
    return false; // released meanwhile: try again
  }
  if (!Number.isInteger(owner) || owner <= 0) {
    // created but not yet written by its owner, or left empty by a crash: stale once it is old
    const stat = await fs.stat(lockFile).catch(() => undefined);
    return stat !== undefined && Date.now() - stat.mtimeMs > 5_000;
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
