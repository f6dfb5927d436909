import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalObjectStorage } from '../../../providers/local/object-storage';
import { storageConformance } from '../../conformance/storage';
import { temporaryDirectory } from '../../helpers/paths';

storageConformance('local', async () => {
  const directory = temporaryDirectory('local-storage-');
  return { storage: createLocalObjectStorage({ root: directory.path }), cleanup: async () => directory.remove() };
});

describe('local object storage on disk', () => {
  it('removes the directories a delete leaves empty, and leaves no lock or temporary file after conditional writes', async () => {
    const directory = temporaryDirectory('local-storage-');
    try {
      const storage = createLocalObjectStorage({ root: directory.path });
      await storage.put('versions/v-0123456789ab/artifacts/report.html', new Uint8Array([1]));
      await storage.put('versions/v-0123456789ab/model.onnx', new Uint8Array([2]));
      await storage.put('versions/keep.txt', new Uint8Array([3]));
      await Promise.all(Array.from({ length: 4 }, () => storage.putConditionally('aliases/production.jsonl', new Uint8Array([4]), { ifNoneMatch: '*' })));
      await storage.delete(['versions/v-0123456789ab/artifacts/report.html', 'versions/v-0123456789ab/model.onnx']);
      expect(readdirSync(directory.path, { recursive: true }).map(String).sort()).toEqual(['aliases', path.join('aliases', 'production.jsonl'), 'versions', path.join('versions', 'keep.txt')]);
      await storage.delete(['versions/keep.txt', 'aliases/production.jsonl']);
      expect(readdirSync(directory.path)).toEqual([]);
    } finally {
      directory.remove();
    }
  });
});
