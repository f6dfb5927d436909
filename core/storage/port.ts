/**
 * The object-storage port: where a lake's layers and a registry's artifacts live when they are not
 * on a local disk (S3, Azure Blob / ADLS Gen2). Keys are '/'-separated paths relative to the
 * store's root (bucket + prefix, container + prefix). Providers implement it and pass the shared
 * conformance suite (tests/conformance/storage.ts).
 *
 * Versions: `v1` had no conditional writes; `v2` adds `getVersioned` and `putConditionally`
 * (compare-and-swap on an object's ETag), which the model registry needs for its sequence
 * counter, its alias histories, and the lock of stores that have no lock of their own.
 */
export const STORAGE_SPECIFICATION_VERSION = 'v2';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

export interface PutObjectOptions {
  /** @default 'application/octet-stream' */
  readonly contentType?: string;
}

/** An object's bytes with its ETag: an opaque string that changes whenever the object is written. */
export interface VersionedObject {
  readonly body: Uint8Array;
  readonly etag: string;
}

/** The condition of a conditional write: the object must not exist, or must still have this ETag. */
export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

/** What a conditional write did. */
export interface ConditionalWriteResult {
  /** False when the condition did not hold (then nothing was written). */
  readonly written: boolean;
  /** The new object's ETag when written. */
  readonly etag?: string;
}

export interface ObjectStorage {
  readonly specificationVersion: typeof STORAGE_SPECIFICATION_VERSION;
  /** The provider's name, e.g. `local`, `aws`, `azure`. */
  readonly provider: string;
  /** A human-readable location, e.g. `s3://bucket/prefix`. */
  readonly location: string;

  /** Writes an object from memory; readers see the old object or the new, never part of it. */
  put(key: string, body: Uint8Array, options?: PutObjectOptions): Promise<void>;
  /** Writes an object from a local file, streaming (multipart/blocks for large files). */
  upload(key: string, file: string, options?: PutObjectOptions): Promise<void>;
  /** Reads an object. @throws ObjectNotFoundError */
  get(key: string): Promise<Uint8Array>;
  /** Reads an object and its ETag; undefined when it does not exist. */
  getVersioned(key: string): Promise<VersionedObject | undefined>;
  /**
   * Writes an object only when `condition` holds at the moment of writing: `ifNoneMatch: '*'`
   * (it must not exist) or `ifMatch: <etag>` (it must still have the ETag read with `getVersioned`).
   * Of concurrent conditional writers with the same condition, exactly one succeeds; the others get
   * `written: false` and nothing changes.
   */
  putConditionally(key: string, body: Uint8Array, condition: WriteCondition, options?: PutObjectOptions): Promise<ConditionalWriteResult>;
  /** Reads an object into a local file, streaming; the file appears complete or not at all. @throws ObjectNotFoundError */
  download(key: string, file: string): Promise<void>;
  /** Size of an object, or undefined when it does not exist. */
  head(key: string): Promise<StoredObject | undefined>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<readonly StoredObject[]>;
  /** Deletes objects; missing ones are ignored. */
  delete(keys: readonly string[]): Promise<void>;
}
