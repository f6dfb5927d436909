import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetailMlopsError } from '../../core/errors';
import type { ObjectStorage } from '../../core/storage/port';
import { temporaryDirectory } from '../helpers/paths';

/** What a provider's test gives the suite: a fresh, empty store and how to dispose of it. */
export interface StorageUnderTest {
  readonly storage: ObjectStorage;
  readonly cleanup: () => Promise<void>;
}

/**
 * The object-storage conformance suite: every provider (local, aws on s3rver, azure on azurite)
 * runs exactly these tests.
 */
export function storageConformance(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
  describe(`ObjectStorage conformance: ${name}`, () => {
    let subject: StorageUnderTest;
    const scratch = temporaryDirectory('storage-conformance-');
    beforeAll(async () => {
      subject = await makeStorage();
    });
    afterAll(async () => {
      await subject?.cleanup();
      scratch.remove();
    });

    it('declares the specification it implements', () => {
      expect(subject.storage.specificationVersion).toBe('v2');
      expect(subject.storage.provider).toMatch(/^[a-z]+$/);
    });

    it('round-trips bytes exactly, and overwrites', async () => {
      const bytes = new Uint8Array(256).map((_, index) => index);
      await subject.storage.put('layer/part-1.bin', bytes);
      expect(Buffer.from(await subject.storage.get('layer/part-1.bin')).equals(Buffer.from(bytes))).toBe(true);
      await subject.storage.put('layer/part-1.bin', new Uint8Array([7]));
      expect(Array.from(await subject.storage.get('layer/part-1.bin'))).toEqual([7]);
    });

    it('uploads and downloads large files by streaming, byte for byte', async () => {
      const source = path.join(scratch.path, 'large.bin');
      const large = Buffer.alloc(12 * 1024 * 1024 + 123);
      for (let index = 0; index < large.length; index += 4096) large[index] = (index / 4096) % 251;
      await fs.writeFile(source, large);
      await subject.storage.upload('silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/part-0.parquet', source);
      const target = path.join(scratch.path, 'copy', 'large.bin');
      await subject.storage.download('silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/part-0.parquet', target);
      expect((await fs.readFile(target)).equals(large)).toBe(true);
      expect(await subject.storage.head('silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/part-0.parquet')).toEqual({
        key: 'silver/STORE_REGION=E01/BASKET_TYPE=Top%20Up/part-0.parquet',
        size: large.length,
      });
    });

    it('lists by prefix, sorted, and deletes', async () => {
      await subject.storage.put('list/b.txt', new Uint8Array([1]));
      await subject.storage.put('list/a.txt', new Uint8Array([1, 2]));
      await subject.storage.put('list/sub/c.txt', new Uint8Array([1, 2, 3]));
      await subject.storage.put('listed-elsewhere.txt', new Uint8Array([1]));
      expect(await subject.storage.list('list/')).toEqual([
        { key: 'list/a.txt', size: 2 },
        { key: 'list/b.txt', size: 1 },
        { key: 'list/sub/c.txt', size: 3 },
      ]);
      await subject.storage.delete(['list/a.txt', 'list/missing.txt']);
      expect((await subject.storage.list('list/')).map((object) => object.key)).toEqual(['list/b.txt', 'list/sub/c.txt']);
    });

    it('reports a missing object with a stable error code', async () => {
      expect(await subject.storage.head('nothing/here')).toBeUndefined();
      const error = await subject.storage.get('nothing/here').catch((caught: unknown) => caught);
      expect(RetailMlopsError.isInstance(error) && error.code).toBe('OBJECT_NOT_FOUND');
      const downloadError = await subject.storage.download('nothing/here', path.join(scratch.path, 'x')).catch((caught: unknown) => caught);
      expect(RetailMlopsError.isInstance(downloadError) && downloadError.code).toBe('OBJECT_NOT_FOUND');
    });

    it('writes conditionally: If-None-Match only when the object is absent, If-Match only over the ETag read', async () => {
      const key = 'conditional/history.jsonl';
      const first = await subject.storage.putConditionally(key, Buffer.from('one\n'), { ifNoneMatch: '*' });
      expect(first.written).toBe(true);
      expect((await subject.storage.putConditionally(key, Buffer.from('other\n'), { ifNoneMatch: '*' })).written).toBe(false);
      const current = await subject.storage.getVersioned(key);
      expect(Buffer.from(current!.body).toString()).toBe('one\n');
      expect(current!.etag).toBe(first.etag);
      const second = await subject.storage.putConditionally(key, Buffer.from('one\ntwo\n'), { ifMatch: current!.etag }, { contentType: 'application/x-ndjson' });
      expect(second.written).toBe(true);
      expect(second.etag).not.toBe(first.etag);
      expect((await subject.storage.putConditionally(key, Buffer.from('lost\n'), { ifMatch: current!.etag })).written).toBe(false);
      expect(Buffer.from(await subject.storage.get(key)).toString()).toBe('one\ntwo\n');
      expect((await subject.storage.getVersioned(key))!.etag).toBe(second.etag);
      // an unconditional write changes the ETag too
      await subject.storage.put(key, Buffer.from('replaced\n'));
      expect((await subject.storage.putConditionally(key, Buffer.from('stale\n'), { ifMatch: second.etag! })).written).toBe(false);
      // If-Match on a missing object never creates it
      expect((await subject.storage.putConditionally('conditional/missing.jsonl', Buffer.from('x'), { ifMatch: second.etag! })).written).toBe(false);
      expect(await subject.storage.getVersioned('conditional/missing.jsonl')).toBeUndefined();
    });

    it('lets exactly one of several concurrent conditional writers win', async () => {
      const key = 'conditional/counter.json';
      const created = await Promise.all(Array.from({ length: 6 }, (_, index) => subject.storage.putConditionally(key, Buffer.from(`${index}`), { ifNoneMatch: '*' })));
      expect(created.filter((result) => result.written)).toHaveLength(1);
      const { etag } = (await subject.storage.getVersioned(key))!;
      const swapped = await Promise.all(Array.from({ length: 6 }, (_, index) => subject.storage.putConditionally(key, Buffer.from(`swap-${index}`), { ifMatch: etag })));
      expect(swapped.filter((result) => result.written)).toHaveLength(1);
      const winner = swapped.findIndex((result) => result.written);
      expect(Buffer.from(await subject.storage.get(key)).toString()).toBe(`swap-${winner}`);
    });

    it('refuses keys that escape the root', async () => {
      for (const key of ['', '/abs', '../up', 'a/../b', 'a//b']) {
        const error = await subject.storage.put(key, new Uint8Array([1])).catch((caught: unknown) => caught);
        expect(RetailMlopsError.isInstance(error) && error.code).toBe('INVALID_OBJECT_KEY');
      }
    });
  });
}
