/**
 * Object storage on a local file system: the reference implementation of the port. An object is a
 * file under the root; a write goes to a temporary sibling that is renamed into place, so readers
 * see the old object or the new one. Deleting an object also removes the directories it leaves
 * empty (an object store has no directories). A conditional write runs under a per-object lock
 * file (`.<name>.lock` beside the object, see lock-file.ts), so of concurrent writers with the same
 * condition exactly one wins, across processes; an object's ETag is the sha256 of its bytes.
 * Names starting with '.' (temporaries, locks) are never listed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withLockFile } from './lock-file';
import { ProblemCollector } from '../../core/errors';
import { temporaryPathFor, writeFileAtomically } from '../../core/files/write-atomically';
import { assertObjectKey, ObjectNotFoundError } from '../../core/storage/errors';
import { STORAGE_SPECIFICATION_VERSION, type ObjectStorage, type StoredObject, type VersionedObject } from '../../core/storage/port';

export interface LocalObjectStorageOptions {
  /** The directory that holds the objects (created when missing). */
  readonly root: string;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function etagOf(content: Uint8Array): string {
  return `"${createHash('sha256').update(content).digest('hex')}"`;
}

/**
 * Runs a write into `file`'s directory, creating the directory first; when a concurrent delete
 * removed the directory in between (ENOENT), creates it again and retries.
 */
async function inDirectoryOf<T>(file: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    try {
      return await write();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
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
    if (errorCode(error) === 'ENOENT') throw new ObjectNotFoundError(root, key);
    throw error;
  };
  const readIfExists = async (file: string): Promise<Buffer | undefined> => {
    try {
      return await fs.readFile(file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'EISDIR') return undefined;
      throw error;
    }
  };
  /** Removes the directories from `directory` up to (not including) the root while they are empty. */
  const pruneEmptyDirectories = async (directory: string): Promise<void> => {
    for (let current = directory; current !== root && current.startsWith(`${root}${path.sep}`); current = path.dirname(current)) {
      try {
        await fs.rmdir(current);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        return; // ENOTEMPTY / EEXIST: something else lives here
      }
    }
  };

  return {
    specificationVersion: STORAGE_SPECIFICATION_VERSION,
    provider: 'local',
    location: root,
    async put(key, body) {
      const target = fileOf(key);
      await inDirectoryOf(target, () => writeFileAtomically(target, body));
    },
    async upload(key, file) {
      const target = fileOf(key);
      await inDirectoryOf(target, async () => {
        const temp = temporaryPathFor(target);
        try {
          await fs.copyFile(file, temp);
          await fs.rename(temp, target);
        } catch (error) {
          await fs.rm(temp, { force: true });
          throw error;
        }
      });
    },
    async get(key) {
      return new Uint8Array(await fs.readFile(fileOf(key)).catch(notFound(key)));
    },
    async getVersioned(key): Promise<VersionedObject | undefined> {
      const content = await readIfExists(fileOf(key));
      return content ? { body: new Uint8Array(content), etag: etagOf(content) } : undefined;
    },
    async putConditionally(key, body, condition) {
      const target = fileOf(key);
      const lock = path.join(path.dirname(target), `.${path.basename(target)}.lock`);
      return inDirectoryOf(target, () =>
        withLockFile(lock, {}, async () => {
          const current = await readIfExists(target);
          const holds = 'ifNoneMatch' in condition ? current === undefined : current !== undefined && etagOf(current) === condition.ifMatch;
          if (!holds) return { written: false };
          await writeFileAtomically(target, body);
          return { written: true, etag: etagOf(body) };
        }),
      );
    },
    async download(key, file) {
      const source = fileOf(key);
      await fs.access(source).catch(notFound(key));
      await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
      const temp = temporaryPathFor(path.resolve(file));
      await pipeline(createReadStream(source), createWriteStream(temp));
      await fs.rename(temp, file);
    },
    async head(key) {
      const stat = await fs.stat(fileOf(key)).catch(() => undefined);
      return stat?.isFile() ? { key, size: stat.size } : undefined;
    },
    async list(prefix) {
      // walk only the directory the prefix names (its part up to the last '/'); entries that vanish
      // under a concurrent delete are skipped, never failing the listing
      const directoryPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = path.resolve(root, ...directoryPart.split('/').filter((segment) => segment.length > 0));
      if (start !== root && !start.startsWith(`${root}${path.sep}`)) return [];
      const objects: StoredObject[] = [];
      const walk = async (directory: string): Promise<void> => {
        const entries = await fs.readdir(directory, { withFileTypes: true }).catch((error: unknown) => {
          if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
          throw error;
        });
        for (const entry of entries) {
          const file = path.join(directory, entry.name);
          if (entry.isDirectory()) {
            await walk(file);
            continue;
          }
          const key = path.relative(root, file).split(path.sep).join('/');
          if (!entry.isFile() || entry.name.startsWith('.') || !key.startsWith(prefix)) continue;
          const stat = await fs.stat(file).catch(() => undefined);
          if (stat?.isFile()) objects.push({ key, size: stat.size });
        }
      };
      await walk(start);
      return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(keys) {
      for (const key of keys) {
        const file = fileOf(key);
        await fs.rm(file, { force: true });
        await pruneEmptyDirectories(path.dirname(file));
      }
    },
  };
}
