/**
 * The local model registry: the shared registry (core/registry/object-store-registry.ts, which
 * documents the layout) on a directory, through the local object storage. What is local:
 *
 * - the writers' lock is a lock file, `<root>/.lock` (lock-file.ts): one writer at a time across
 *   processes, a dead holder's lock taken over;
 * - the sweep before each write removes what a killed writer leaves that the storage port cannot
 *   see: temporary files of dead processes (`.<name>.tmp-<pid>-…`), lock candidates, the directories
 *   they leave empty, and `.staging/`, where versions were written before this layout.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withLockFile } from './lock-file';
import { createLocalObjectStorage } from './object-storage';
import { ProblemCollector } from '../../core/errors';
import { isProcessAlive } from '../../core/files/process-liveness';
import { RegistryBusyError } from '../../core/registry/errors';
import { createObjectStoreRegistry, type RegistryLock } from '../../core/registry/object-store-registry';
import type { ModelRegistry } from '../../core/registry/port';

export interface LocalRegistryOptions {
  /** The registry's directory; created on the first write. */
  readonly root: string;
  /**
   * How long a writer waits for the registry lock before failing with RegistryBusyError.
   * @default 30_000
   */
  readonly lockTimeoutMs?: number;
  /**
   * A lock not refreshed for this long (or whose process is gone) is taken over.
   * @default 10_000
   */
  readonly staleLockMs?: number;
}

/** A temporary file of write-atomically.ts: `.<name>.tmp-<pid>-<hex>`. */
const TEMPORARY_FILE = /^\..+\.tmp-(\d+)-[0-9a-f]+$/;
/** A lock file's candidate (lock-file.ts): `<lock>.<uuid>`, linked into place and removed at once. */
const LOCK_CANDIDATE = /\.lock\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A leftover this old belongs to a writer that is gone, whatever its process id says. */
const ABANDONED_MS = 60 * 60 * 1000;
const CANDIDATE_ABANDONED_MS = 60 * 1000;

/**
 * Creates the local registry (nothing is touched on disk until the first write).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createLocalRegistry(options: LocalRegistryOptions): ModelRegistry {
  const problems = new ProblemCollector('local registry options');
  const lockTimeoutMs = options?.lockTimeoutMs ?? 30_000;
  const staleLockMs = options?.staleLockMs ?? 10_000;
  problems.check(typeof options?.root === 'string' && options.root.length > 0, `root must be a non-empty path, got ${JSON.stringify(options?.root)}`);
  problems.check(Number.isInteger(lockTimeoutMs) && lockTimeoutMs >= 0, `lockTimeoutMs must be an integer ≥ 0, got ${lockTimeoutMs}`);
  problems.check(Number.isInteger(staleLockMs) && staleLockMs >= 100, `staleLockMs must be an integer ≥ 100, got ${staleLockMs}`);
  problems.throwIfAny();
  const root = path.resolve(options.root);
  const lockPath = path.join(root, '.lock');
  const lock: RegistryLock = {
    async withLock(body) {
      await fs.mkdir(root, { recursive: true });
      return withLockFile(lockPath, { timeoutMs: lockTimeoutMs, staleMs: staleLockMs }, (held) =>
        body({
          async confirm() {
            if (!(await held.isHeld())) throw new RegistryBusyError(`the lock ${lockPath} was taken over by another writer (this one was judged stale)`);
          },
        }),
      );
    },
  };
  return createObjectStoreRegistry({ provider: 'local', storage: createLocalObjectStorage({ root }), lock, sweep: () => sweepLeftovers(root) });
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Removes what killed writers leave under `root` that the object storage does not list (runs under the lock). */
async function sweepLeftovers(root: string): Promise<void> {
  await fs.rm(path.join(root, '.staging'), { recursive: true, force: true });
  await sweepDirectory(root, root);
}

/** Removes abandoned leftovers below `directory`, then the directories that are left empty (never `root`). */
async function sweepDirectory(directory: string, root: string): Promise<void> {
  const entries = await fs.readdir(directory, { withFileTypes: true }).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      await sweepDirectory(file, root);
      continue;
    }
    const temporary = TEMPORARY_FILE.exec(entry.name);
    const candidate = LOCK_CANDIDATE.test(entry.name);
    if (!temporary && !candidate) continue;
    const info = await fs.stat(file).catch(() => undefined);
    if (!info) continue;
    const age = Date.now() - info.mtimeMs;
    const abandoned = temporary ? age > ABANDONED_MS || !isProcessAlive(Number(temporary[1])) : age > CANDIDATE_ABANDONED_MS;
    if (abandoned) await fs.rm(file, { force: true });
  }
  if (directory !== root) {
    await fs.rmdir(directory).catch((error: unknown) => {
      if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(errorCode(error) ?? '')) throw error;
    });
  }
}
