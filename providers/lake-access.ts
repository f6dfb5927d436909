/**
 * A lake by location. A local lake is its directory. A cloud lake (S3, Blob) is read through a local
 * copy of the layer the work needs (gold: one row per basket), kept in a cache directory and brought
 * up to date file by file (lake files are immutable; only the manifest changes); an ingest runs
 * against that copy and publishes what it added, data files first and the manifest last, so readers
 * of the cloud lake see the previous version until the new one is whole.
 */
import { promises as fs } from 'node:fs';
import { LakeError } from '../core/errors';
import { LAKE_MANIFEST, Lake, type LakeManifest } from '../core/lake/lake';
import { pullLake, pushLake } from '../core/lake/lake-sync';
import { ObjectNotFoundError } from '../core/storage/errors';
import type { ObjectStorage } from '../core/storage/port';

export interface LakeAccess {
  /** The lake's canonical location. */
  readonly location: string;
  /** True when the lake is a directory on this machine. */
  readonly isLocal: boolean;
  /** The lake's current version, readable here (a cloud lake: its gold layer copied into the cache); an empty lake when there is none. */
  open(): Promise<Lake>;
  /** As `open`, but a lake without data is an error. @throws LakeError */
  openExisting(): Promise<Lake>;
  /**
   * Runs `change` (an ingest) on a local working copy holding the current version, then publishes
   * what it added. @throws LakeError when the cloud lake moved on meanwhile (nothing is published then)
   */
  update<T>(change: (directory: string) => Promise<T>): Promise<T>;
  /** Object storage rooted at the lake (its predictions/ and reports/ areas). */
  storage(): Promise<ObjectStorage>;
}

export interface LakeAccessOptions {
  readonly location: string;
  readonly isLocal: boolean;
  readonly storage: () => Promise<ObjectStorage>;
  /** Where a cloud lake's local copy lives. */
  readonly cacheDirectory: string;
}

async function remoteManifest(storage: ObjectStorage): Promise<LakeManifest | undefined> {
  try {
    return JSON.parse(Buffer.from(await storage.get(LAKE_MANIFEST)).toString('utf8')) as LakeManifest;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

export function createLakeAccess(options: LakeAccessOptions): LakeAccess {
  let storage: Promise<ObjectStorage> | undefined;
  const store = (): Promise<ObjectStorage> => (storage ??= options.storage());
  const open = async (): Promise<Lake> => {
    if (options.isLocal) return Lake.open(options.location);
    const remote = await store();
    if ((await remoteManifest(remote)) === undefined) {
      // no lake there (yet): an empty copy, whatever an earlier cache held
      await fs.rm(options.cacheDirectory, { recursive: true, force: true });
      return Lake.open(options.cacheDirectory);
    }
    return pullLake(remote, options.cacheDirectory, { layers: ['gold'] });
  };
  return {
    location: options.location,
    isLocal: options.isLocal,
    open,
    async openExisting() {
      const lake = await open();
      if (lake.manifest.version === 0) throw new LakeError(`${options.location} holds no lake (no ${LAKE_MANIFEST}); run 'retail-mlops ingest' first`);
      return lake;
    },
    async update(change) {
      if (options.isLocal) return change(options.location);
      const before = await open();
      const result = await change(options.cacheDirectory);
      const after = await Lake.open(options.cacheDirectory);
      if (after.manifest.version === before.manifest.version) return result;
      const remote = await store();
      const current = (await remoteManifest(remote))?.version ?? 0;
      if (current !== before.manifest.version) {
        throw new LakeError(`${options.location} moved from version ${before.manifest.version} to ${current} while this ingest ran; nothing was published: run it again`);
      }
      await pushLake(after, remote);
      return result;
    },
    storage: store,
  };
}
