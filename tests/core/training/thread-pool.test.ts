import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../core/errors';
import type { TaskKind } from '../../../core/training/trees/task-kinds';
import { TrainingThreadError, TreeThreadPool } from '../../../core/training/trees/thread-pool';

describe('TreeThreadPool', () => {
  const started: TreeThreadPool[] = [];
  afterAll(async () => {
    for (const pool of started) await pool.close();
  });

  it('refuses a thread count that is not an integer from 1 to 256', async () => {
    for (const threads of [0, 1.5, 257, Number.NaN]) {
      await expect(TreeThreadPool.start({ threads })).rejects.toThrow(InvalidOptionsError);
    }
    await expect(TreeThreadPool.start({ threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 256 \(got 0\)/);
  });

  it('reports a task that fails on any thread, and keeps serving jobs afterwards', async () => {
    const pool = await TreeThreadPool.start({ threads: 3 });
    started.push(pool);
    // an unknown kind fails on whichever thread claims a task: the calling thread's error or a worker's, both name it
    expect(() => pool.run(99 as TaskKind, 64)).toThrow(/unknown training task kind 99/);
    expect(() => pool.run(99 as TaskKind, 64)).toThrow(/unknown training task kind 99/);
    const jobs = pool.jobsRun;
    pool.run(99 as TaskKind, 0);
    expect(pool.jobsRun).toBe(jobs);
  });

  it('refuses jobs once closed', async () => {
    const pool = await TreeThreadPool.start({ threads: 2 });
    await pool.close();
    await pool.close();
    expect(() => pool.run(1 as TaskKind, 1)).toThrow(TrainingThreadError);
  });

  it('keeps job arrays in its memory: an array there is used as it is, any other is copied; a job names them by place', async () => {
    const pool = await TreeThreadPool.start({ threads: 1 });
    started.push(pool);
    const inMemory = pool.float64(4);
    expect(pool.share(inMemory)).toBe(inMemory);
    const plain = Int32Array.from([1, 2, 3]);
    const copy = pool.share(plain);
    expect(copy.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    const place = new Int32Array(2);
    expect(() => pool.locate(plain, place, 0)).toThrow(TypeError);
    pool.locate(copy, place, 0);
    expect(Array.from(pool.memory.view(Int32Array, place[0], place[1]))).toEqual([1, 2, 3]);
  });
});
