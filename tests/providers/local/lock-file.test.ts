import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLockFile, withLockFile } from '../../../providers/local/lock-file';
import { expectCode } from '../../conformance/registry';

describe('lock file', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'retail-mlops-lock-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('lets one holder in at a time', async () => {
    const lock = path.join(directory, '.lock');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        withLockFile(lock, {}, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(2);
          order.push(index);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps a slow live holder fresh, so waiters do not break its lock', async () => {
    const lock = path.join(directory, '.lock');
    const held = await acquireLockFile(lock, { staleMs: 200 });
    try {
      await sleep(600);
      await expectCode(acquireLockFile(lock, { staleMs: 200, timeoutMs: 300 }), 'REGISTRY_BUSY');
    } finally {
      await held.release();
    }
    const next = await acquireLockFile(lock, { staleMs: 200, timeoutMs: 300 });
    await next.release();
  });

  it('never removes a lock that another holder owns', async () => {
    const lock = path.join(directory, '.lock');
    const held = await acquireLockFile(lock);
    const foreign = JSON.stringify({ host: 'elsewhere', pid: 1, token: 'other', acquiredAt: new Date().toISOString() });
    await writeFile(lock, foreign);
    await held.release();
    expect(await readFile(lock, 'utf8')).toBe(foreign);
  });
});
