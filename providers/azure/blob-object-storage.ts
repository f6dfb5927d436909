/**
 * The object-storage port on Azure Blob Storage (also ADLS Gen2 accounts, through their Blob
 * endpoint). Writes are atomic per object: a small object is one Put Blob, a file is staged in
 * blocks and becomes visible with the final Put Block List. Reads stream to a temporary file that is
 * renamed into place. Conditional writes are Blob Storage's own compare-and-swap (If-None-Match /
 * If-Match on Put Blob). `@azure/storage-blob` is loaded when a storage is created, not before.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TokenCredential } from '@azure/identity' with { 'resolution-mode': 'import' };
import type { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import { accountUrlProblems, CONTAINER_NAME_PATTERN, normalizePrefix } from './blob-location';
import { createDefaultCredential } from './credential';
import { azureFailure, hasStatus } from './errors';
import { ProblemCollector } from '../../core/errors';
import { temporaryPathFor } from '../../core/files/write-atomically';
import { assertObjectKey, ObjectNotFoundError } from '../../core/storage/errors';
import {
  STORAGE_SPECIFICATION_VERSION,
  type ConditionalWriteResult,
  type ObjectStorage,
  type PutObjectOptions,
  type StoredObject,
  type VersionedObject,
  type WriteCondition,
} from '../../core/storage/port';

const MEBIBYTE = 1024 * 1024;

export interface BlobObjectStorageOptions {
  /**
   * The account's Blob endpoint: `https://<account>.blob.core.windows.net`, or an emulator's
   * `http://127.0.0.1:<port>/<account>`.
   */
  readonly accountUrl: string;
  /** The container (created by the infrastructure template; see `createContainer`). */
  readonly container: string;
  /**
   * The store's root inside the container, e.g. `lake` or `registry`.
   * @default '' (the container's root)
   */
  readonly prefix?: string;
  /**
   * Who the calls run as.
   * @default - DefaultAzureCredential (workload identity on AKS)
   */
  readonly credential?: TokenCredential | StorageSharedKeyCredential;
  /**
   * Files larger than this are uploaded in blocks; smaller ones in one request.
   * @default 32 MiB
   */
  readonly singleRequestMaximumBytes?: number;
  /**
   * The size of one block of a blocked upload (at most 4000 MiB; at most 50,000 blocks per blob).
   * @default 8 MiB
   */
  readonly blockSizeBytes?: number;
  /**
   * Blocks in flight per upload.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Create the container when it does not exist (tests, first runs). In production the
   * infrastructure template creates it and the identity needs no account-level rights.
   * @default false
   */
  readonly createContainer?: boolean;
}

function validate(options: BlobObjectStorageOptions): Required<Omit<BlobObjectStorageOptions, 'credential'>> {
  const problems = new ProblemCollector('blob object storage options');
  for (const problem of accountUrlProblems(options?.accountUrl)) problems.check(false, problem);
  problems.check(
    typeof options?.container === 'string' && CONTAINER_NAME_PATTERN.test(options.container),
    `container must be 3–63 lowercase letters, digits and single hyphens, got ${JSON.stringify(options?.container)}`,
  );
  const prefix = options?.prefix ?? '';
  problems.check(typeof prefix === 'string', 'prefix must be a string');
  if (typeof prefix === 'string' && normalizePrefix(prefix) !== '') {
    const segments = normalizePrefix(prefix).split('/');
    problems.check(!segments.some((segment) => segment === '' || segment === '.' || segment === '..'), `prefix '${prefix}' must not hold empty, '.' or '..' segments`);
  }
  const singleRequestMaximumBytes = options?.singleRequestMaximumBytes ?? 32 * MEBIBYTE;
  const blockSizeBytes = options?.blockSizeBytes ?? 8 * MEBIBYTE;
  const concurrency = options?.concurrency ?? 4;
  problems.check(
    Number.isInteger(singleRequestMaximumBytes) && singleRequestMaximumBytes >= 1 && singleRequestMaximumBytes <= 256 * MEBIBYTE,
    `singleRequestMaximumBytes must be an integer in 1…${256 * MEBIBYTE}, got ${singleRequestMaximumBytes}`,
  );
  problems.check(
    Number.isInteger(blockSizeBytes) && blockSizeBytes >= 64 * 1024 && blockSizeBytes <= 4000 * MEBIBYTE,
    `blockSizeBytes must be an integer in ${64 * 1024}…${4000 * MEBIBYTE}, got ${blockSizeBytes}`,
  );
  problems.check(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64, `concurrency must be an integer in 1…64, got ${concurrency}`);
  problems.check(options?.createContainer === undefined || typeof options.createContainer === 'boolean', 'createContainer must be a boolean');
  problems.throwIfAny();
  return {
    accountUrl: options.accountUrl.replace(/\/+$/, ''),
    container: options.container,
    prefix: normalizePrefix(prefix),
    singleRequestMaximumBytes,
    blockSizeBytes,
    concurrency,
    createContainer: options.createContainer ?? false,
  };
}

/**
 * Creates the storage (validating every option first, then loading the SDK).
 * @throws InvalidOptionsError listing every problem of the options
 */
export async function createBlobObjectStorage(options: BlobObjectStorageOptions): Promise<ObjectStorage> {
  const settings = validate(options);
  const credential = options.credential ?? (await createDefaultCredential());
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const container = new BlobServiceClient(settings.accountUrl, credential).getContainerClient(settings.container);
  if (settings.createContainer) {
    await container.createIfNotExists().catch((error: unknown) => {
      throw azureFailure(`create container '${settings.container}'`, error);
    });
  }
  return new BlobObjectStorage(container, settings);
}

class BlobObjectStorage implements ObjectStorage {
  readonly specificationVersion = STORAGE_SPECIFICATION_VERSION;
  readonly provider = 'azure';
  readonly location: string;

  constructor(
    private readonly container: ContainerClient,
    private readonly settings: ReturnType<typeof validate>,
  ) {
    this.location = `${settings.accountUrl}/${settings.container}${settings.prefix ? `/${settings.prefix}` : ''}`;
  }

  async put(key: string, body: Uint8Array, options?: { readonly contentType?: string }): Promise<void> {
    const blob = this.blockBlob(key);
    try {
      await blob.upload(body, body.byteLength, { blobHTTPHeaders: { blobContentType: options?.contentType ?? 'application/octet-stream' } });
    } catch (error) {
      throw azureFailure(`put blob '${key}' to ${this.location}`, error);
    }
  }

  async upload(key: string, file: string, options?: { readonly contentType?: string }): Promise<void> {
    const blob = this.blockBlob(key);
    try {
      await blob.uploadFile(file, {
        blockSize: this.settings.blockSizeBytes,
        maxSingleShotSize: this.settings.singleRequestMaximumBytes,
        concurrency: this.settings.concurrency,
        blobHTTPHeaders: { blobContentType: options?.contentType ?? 'application/octet-stream' },
      });
    } catch (error) {
      throw azureFailure(`upload '${file}' to blob '${key}' of ${this.location}`, error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const blob = this.blockBlob(key);
    try {
      const buffer = await blob.downloadToBuffer();
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (hasStatus(error, 404)) throw new ObjectNotFoundError(this.location, key);
      throw azureFailure(`get blob '${key}' from ${this.location}`, error);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    const blob = this.blockBlob(key);
    try {
      const response = await blob.download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      const body = Buffer.concat(chunks);
      return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), etag: response.etag ?? '' };
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw azureFailure(`get blob '${key}' from ${this.location}`, error);
    }
  }

  async putConditionally(key: string, body: Uint8Array, condition: WriteCondition, options?: PutObjectOptions): Promise<ConditionalWriteResult> {
    const blob = this.blockBlob(key);
    try {
      const response = await blob.upload(body, body.byteLength, {
        conditions: 'ifNoneMatch' in condition ? { ifNoneMatch: condition.ifNoneMatch } : { ifMatch: condition.ifMatch },
        blobHTTPHeaders: { blobContentType: options?.contentType ?? 'application/octet-stream' },
      });
      return { written: true, etag: response.etag };
    } catch (error) {
      // 412: the condition failed; 409: the blob exists (If-None-Match) or a concurrent write won; 404: If-Match on a deleted blob
      if (hasStatus(error, 412) || hasStatus(error, 409) || (hasStatus(error, 404) && 'ifMatch' in condition)) return { written: false };
      throw azureFailure(`put blob '${key}' to ${this.location} (conditional)`, error);
    }
  }

  async download(key: string, file: string): Promise<void> {
    const blob = this.blockBlob(key);
    const target = path.resolve(file);
    let response;
    try {
      response = await blob.download();
    } catch (error) {
      if (hasStatus(error, 404)) throw new ObjectNotFoundError(this.location, key);
      throw azureFailure(`download blob '${key}' from ${this.location}`, error);
    }
    if (!response.readableStreamBody) throw azureFailure(`download blob '${key}' from ${this.location}`, new Error('the response has no body'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temporary = temporaryPathFor(target);
    try {
      await pipeline(response.readableStreamBody, createWriteStream(temporary));
      const { size } = await fs.stat(temporary);
      if (response.contentLength !== undefined && size !== response.contentLength) {
        throw azureFailure(`download blob '${key}' from ${this.location}`, new Error(`received ${size} of ${response.contentLength} bytes`));
      }
      await fs.rename(temporary, target);
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw azureFailure(`download blob '${key}' from ${this.location}`, error);
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const blob = this.blockBlob(key);
    try {
      const properties = await blob.getProperties();
      return { key, size: properties.contentLength ?? 0 };
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw azureFailure(`head blob '${key}' of ${this.location}`, error);
    }
  }

  async list(prefix: string): Promise<readonly StoredObject[]> {
    const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
    const objects: StoredObject[] = [];
    try {
      for await (const item of this.container.listBlobsFlat({ prefix: `${root}${prefix}`, includeMetadata: true })) {
        // on an account with a hierarchical namespace (ADLS Gen2) directories are listed as empty blobs marked hdi_isfolder
        if (item.metadata?.hdi_isfolder === 'true') continue;
        objects.push({ key: item.name.slice(root.length), size: item.properties.contentLength ?? 0 });
      }
    } catch (error) {
      if (hasStatus(error, 404)) return [];
      throw azureFailure(`list blobs under '${prefix}' of ${this.location}`, error);
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const blobs = keys.map((key) => ({ key, blob: this.blockBlob(key) }));
    for (const { key, blob } of blobs) {
      try {
        await blob.deleteIfExists({ deleteSnapshots: 'include' });
      } catch (error) {
        throw azureFailure(`delete blob '${key}' of ${this.location}`, error);
      }
    }
  }

  private blockBlob(key: string) {
    assertObjectKey(key);
    return this.container.getBlockBlobClient(this.settings.prefix ? `${this.settings.prefix}/${key}` : key);
  }
}
