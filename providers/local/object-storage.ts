import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tempSibling, writeFileAtomic } from '../../core/data/atomic-file';
import { ProblemCollector } from '../../core/errors';
import { assertObjectKey, ObjectNotFoundError } from '../../core/storage/errors';
import { STORAGE_SPECIFICATION_VERSION, type ObjectStorage, type StoredObject } from '../../core/storage/port';

export interface LocalObjectStorageOptions {
  /** The directory that holds the objects (created when missing). */
  readonly root: string;
}

/** Object storage on a local file system: the reference implementation of the port. */
export function createLocalObjectStorage(options: LocalObjectStorageOptions): ObjectStorage {
  const problems = new ProblemCollector('local object storage options');
  problems.check(typeof options.root === 'string' && options.root.length > 0, 'root must be a directory path');
  problems.throwIfAny();
  const root = path.resolve(options.root);
  const fileOf = (key: string): string => {
    assertObjectKey(key);
    return path.join(root, ...key.split('/'));
  };
  const notFound = (key: string) => (error: unknown): never => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(root, key);
    throw error;
  };

  return {
    specificationVersion: STORAGE_SPECIFICATION_VERSION,
    provider: 'local',
    location: root,
    async put(key, body) {
      await writeFileAtomic(fileOf(key), body);
    },
    async upload(key, file) {
      const target = fileOf(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const temp = tempSibling(target);
      await fs.copyFile(file, temp);
      await fs.rename(temp, target);
    },
    async get(key) {
      return new Uint8Array(await fs.readFile(fileOf(key)).catch(notFound(key)));
    },
    async download(key, file) {
      const source = fileOf(key);
      await fs.access(source).catch(notFound(key));
      await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
      const temp = tempSibling(path.resolve(file));
      await pipeline(createReadStream(source), createWriteStream(temp));
      await fs.rename(temp, file);
    },
    async head(key) {
      const stat = await fs.stat(fileOf(key)).catch(() => undefined);
      return stat?.isFile() ? { key, size: stat.size } : undefined;
    },
    async list(prefix) {
      const objects: StoredObject[] = [];
      const entries = (await fs.readdir(root, { recursive: true }).catch(() => [])) as string[];
      for (const entry of entries) {
        const key = entry.split(path.sep).join('/');
        if (!key.startsWith(prefix) || path.basename(key).startsWith('.')) continue;
        const stat = await fs.stat(path.join(root, entry));
        if (stat.isFile()) objects.push({ key, size: stat.size });
      }
      return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(keys) {
      for (const key of keys) await fs.rm(fileOf(key), { force: true });
    },
  };
}
