/**
 * An exclusive lock between processes (and between async callers of one process) on a local file
 * system: the lock is a file that exists while someone holds it.
 *
 * - Taking it is atomic: the holder writes its identity (host, pid, a random token) to a private
 *   temporary file and hard-links it to the lock path; `link` fails if the lock exists. So the lock
 *   file is never seen half-written.
 * - The holder refreshes the lock's mtime while it holds it, so a slow holder is not mistaken for
 *   a dead one.
 * - A stale lock (its holder's pid is gone on this host, or its mtime is older than `staleMs`) is
 *   broken under a second, short-lived guard file, and only if it still holds the token that was
 *   judged stale, so two waiters can never both break it, or break a fresh lock by mistake.
 * - Releasing checks the token too: a holder never removes somebody else's lock.
 */
import { randomUUID } from 'node:crypto';
import { link, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProblemCollector } from '../../core/errors';
import { isProcessAlive } from '../../core/files/process-liveness';
import { RegistryBusyError } from '../../core/registry/errors';

export interface LockFileOptions {
  /**
   * How long to wait for the lock before giving up with RegistryBusyError.
   * @default 30_000
   */
  readonly timeoutMs?: number;
  /**
   * A lock whose mtime is older than this is stale (its holder refreshes it every `staleMs / 4`).
   * @default 10_000
   */
  readonly staleMs?: number;
}

interface LockOwner {
  readonly host: string;
  readonly pid: number;
  readonly token: string;
  readonly acquiredAt: string;
}

/** How long the guard that serialises breaking a stale lock may live before it is itself stale. */
const GUARD_STALE_MS = 5_000;

/** Validates lock options eagerly (all problems at once) and fills in the defaults. */
export function resolveLockFileOptions(options: LockFileOptions = {}, subject = 'lock options'): Required<LockFileOptions> {
  const problems = new ProblemCollector(subject);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 10_000;
  problems.check(Number.isInteger(timeoutMs) && timeoutMs >= 0, `timeoutMs must be an integer ≥ 0, got ${timeoutMs}`);
  problems.check(Number.isInteger(staleMs) && staleMs >= 100, `staleMs must be an integer ≥ 100, got ${staleMs}`);
  problems.throwIfAny();
  return { timeoutMs, staleMs };
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads the lock's content and mtime; undefined when there is no lock. */
async function inspect(lockPath: string): Promise<{ content: string; mtimeMs: number } | undefined> {
  try {
    const [content, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { content, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale(observed: { content: string; mtimeMs: number }, staleMs: number): boolean {
  let owner: Partial<LockOwner> | undefined;
  try {
    owner = JSON.parse(observed.content) as Partial<LockOwner>;
  } catch {
    owner = undefined;
  }
  if (owner?.host === hostname() && typeof owner.pid === 'number' && !isProcessAlive(owner.pid)) return true;
  return Date.now() - observed.mtimeMs > staleMs;
}

/** Removes the lock if it still has the content judged stale; serialised by a guard file. */
async function breakStaleLock(lockPath: string, staleContent: string): Promise<void> {
  const guard = `${lockPath}.break`;
  try {
    await writeFile(guard, `${process.pid}`, { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    // someone else is breaking it; a guard left by a crashed breaker is removed once old
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > GUARD_STALE_MS) await rm(guard, { force: true });
    return;
  }
  try {
    const current = await inspect(lockPath);
    if (current?.content === staleContent) await unlink(lockPath).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
  } finally {
    await rm(guard, { force: true });
  }
}

/** A held lock. */
export interface HeldLock {
  /** True while this holder still owns the lock (it has not been broken as stale and taken by another). */
  isHeld(): Promise<boolean>;
  /** Releases the lock (only if this holder still owns it). */
  release(): Promise<void>;
}

/**
 * Takes the lock at `lockPath` (its directory must exist), waiting up to `timeoutMs`.
 * @throws RegistryBusyError when it stays held by a live holder for longer than that
 */
export async function acquireLockFile(lockPath: string, options: LockFileOptions = {}): Promise<HeldLock> {
  const { timeoutMs, staleMs } = resolveLockFileOptions(options);
  const owner: LockOwner = { host: hostname(), pid: process.pid, token: randomUUID(), acquiredAt: new Date().toISOString() };
  const content = JSON.stringify(owner);
  const candidate = `${lockPath}.${owner.token}`;
  const deadline = Date.now() + timeoutMs;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // (re)written just before linking, so the lock's mtime is fresh the moment it appears
        await writeFile(candidate, content);
        await link(candidate, lockPath);
        break;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const observed = await inspect(lockPath);
      if (observed && isStale(observed, staleMs)) {
        await breakStaleLock(lockPath, observed.content);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new RegistryBusyError(`${lockPath} is held by ${observed?.content ?? 'another writer'}; gave up after ${timeoutMs} ms`);
      }
      // exponential backoff with jitter, 2 ms … 100 ms
      await sleep(Math.random() * Math.min(100, 2 * 2 ** Math.min(attempt, 6)));
    }
  } finally {
    await rm(candidate, { force: true });
  }

  // keep the lock fresh while held, so waiters never judge a slow holder stale
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(25, Math.floor(staleMs / 4)));
  refresh.unref();

  return {
    async isHeld() {
      return (await inspect(lockPath))?.content === content;
    },
    async release() {
      clearInterval(refresh);
      const current = await inspect(lockPath);
      if (current?.content === content) await rm(lockPath, { force: true });
    },
  };
}

/** Runs `body` while holding the lock at `lockPath`, and releases it afterwards (also on failure). */
export async function withLockFile<T>(lockPath: string, options: LockFileOptions, body: (held: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLockFile(lockPath, options);
  try {
    return await body(lock);
  } finally {
    await lock.release();
  }
}
