/**
 * The writers' lock for a store that has no lock of its own (S3): one object, `.lock`, taken,
 * kept and released by conditional writes only, so it needs nothing but the storage port.
 *
 * - Taking it: create the object with If-None-Match: * — or, when it exists but was released or
 *   abandoned, overwrite it with If-Match on the ETag just read. Of concurrent takers exactly one
 *   succeeds; the others poll (backoff with jitter, at most 100 ms) until `timeoutMs` and fail with RegistryBusyError.
 * - Keeping it: the holder rewrites it every `staleMs / 3` (If-Match on its own last ETag), so the
 *   ETag of a live holder's lock keeps changing. A rewrite that fails its condition means the lock
 *   was taken over: `confirm()` then throws.
 * - Abandoned: a waiter that sees the same ETag for `staleMs`, by its own clock, takes the lock
 *   over; no clocks of different machines are ever compared. On the same host, a lock whose holder's
 *   process is gone is taken over at once.
 * - Releasing: a conditional rewrite marked `released`; a holder that lost the lock changes nothing.
 *   A release that fails (the store unreachable) needs no handling: the lock is abandoned, and the
 *   next writer takes it over after `staleMs`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryBusyError } from './errors';
import type { HeldRegistryLock, RegistryLock } from './object-store-registry';
import { ProblemCollector } from '../errors';
import { isProcessAlive } from '../files/process-liveness';
import type { ObjectStorage, VersionedObject } from '../storage/port';

export interface ObjectLockOptions {
  /**
   * The lock object's key.
   * @default '.lock'
   */
  readonly key?: string;
  /**
   * How long a writer waits for the lock before failing with RegistryBusyError.
   * @default 60_000
   */
  readonly timeoutMs?: number;
  /**
   * A lock whose ETag stays the same this long is abandoned (its holder rewrites it every third of this).
   * @default 30_000
   */
  readonly staleMs?: number;
}

/** What the lock object holds. */
interface LockRecord {
  readonly host: string;
  readonly pid: number;
  readonly token: string;
  readonly acquiredAt: string;
  readonly refreshedAt: string;
  readonly released: boolean;
}

/**
 * Creates the lock (nothing is written until a writer takes it).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createObjectLock(storage: ObjectStorage, options: ObjectLockOptions = {}): RegistryLock {
  const problems = new ProblemCollector('object lock options');
  const key = options.key ?? '.lock';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 30_000;
  problems.check(typeof key === 'string' && key.length > 0, 'key must be a non-empty object key');
  problems.check(Number.isInteger(timeoutMs) && timeoutMs >= 0, `timeoutMs must be an integer ≥ 0, got ${timeoutMs}`);
  problems.check(Number.isInteger(staleMs) && staleMs >= 300, `staleMs must be an integer ≥ 300, got ${staleMs}`);
  problems.throwIfAny();
  return {
    async withLock<T>(body: (held: HeldRegistryLock) => Promise<T>): Promise<T> {
      const held = await acquire(storage, key, timeoutMs, staleMs);
      try {
        return await body(held);
      } finally {
        await held.release();
      }
    },
  };
}

function parseRecord(object: VersionedObject): Partial<LockRecord> | undefined {
  try {
    return JSON.parse(Buffer.from(object.body).toString('utf8')) as Partial<LockRecord>;
  } catch {
    return undefined;
  }
}

async function acquire(storage: ObjectStorage, key: string, timeoutMs: number, staleMs: number): Promise<HeldRegistryLock & { release(): Promise<void> }> {
  const token = randomUUID();
  const acquiredAt = new Date().toISOString();
  const record = (released: boolean): Uint8Array =>
    Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, token, acquiredAt, refreshedAt: new Date().toISOString(), released } satisfies LockRecord));
  const json = { contentType: 'application/json' };
  const deadline = Date.now() + timeoutMs;
  let observed: { readonly etag: string; readonly since: number } | undefined;
  let etag: string | undefined;

  for (let attempt = 0; etag === undefined; attempt++) {
    const current = await storage.getVersioned(key);
    const owner = current ? parseRecord(current) : undefined;
    let takeable = current === undefined || owner?.released === true;
    if (current && !takeable) {
      if (owner?.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !isProcessAlive(owner.pid)) takeable = true;
      else if (observed?.etag === current.etag) takeable = Date.now() - observed.since >= staleMs;
      else observed = { etag: current.etag, since: Date.now() };
    }
    if (takeable) {
      const result = await storage.putConditionally(key, record(false), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' }, json);
      if (result.written) {
        etag = result.etag ?? (await storage.getVersioned(key))?.etag ?? '';
        break;
      }
    }
    if (Date.now() >= deadline) {
      const holder = owner?.host ? `${owner.host} pid ${owner.pid} since ${owner.acquiredAt}` : 'another writer';
      throw new RegistryBusyError(`${storage.location}/${key} is held by ${holder}; gave up after ${timeoutMs} ms`);
    }
    // exponential backoff with jitter, 5 ms … 100 ms (a GET of a tiny object is cheap; an idle wait is not)
    await sleep(5 + Math.random() * Math.min(95, 5 * 2 ** Math.min(attempt, 5)));
  }

  let lost = false;
  let refreshing: Promise<void> = Promise.resolve();
  const refresh = (): Promise<void> => {
    refreshing = refreshing
      .catch(() => undefined)
      .then(async () => {
        if (lost) return;
        const result = await storage.putConditionally(key, record(false), { ifMatch: etag! }, json);
        if (result.written) etag = result.etag ?? (await storage.getVersioned(key))?.etag ?? '';
        else lost = true;
      });
    return refreshing;
  };
  // a failed background refresh is retried by the next one; `confirm` reports what matters
  const timer = setInterval(() => void refresh().catch(() => undefined), Math.max(100, Math.floor(staleMs / 3)));
  timer.unref();

  return {
    async confirm() {
      await refresh();
      if (lost) throw new RegistryBusyError(`the lock ${storage.location}/${key} was taken over by another writer (this one was judged stale)`);
    },
    async release() {
      clearInterval(timer);
      await refreshing.catch(() => undefined);
      if (lost) return;
      await storage.putConditionally(key, record(true), { ifMatch: etag! }, json).catch(() => undefined);
    },
  };
}
