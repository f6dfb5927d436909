/**
 * The ObjectStorage port on Amazon S3: keys live under `s3://<bucket>/<prefix>/`. Every write
 * carries SSE-KMS with the configured key; files above the multipart threshold are uploaded in
 * parts (@aws-sdk/lib-storage); downloads stream to a temp sibling that is renamed into place, so
 * a file appears whole or not at all. Conditional writes are S3's own compare-and-swap
 * (If-None-Match / If-Match on PutObject). Besides the port, it offers what the SageMaker mirror and
 * the training backend need: `s3://` URIs of keys and stores at other prefixes.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkConnectionOptions, clientConfiguration, errorNameOf, httpStatusOf, loadMultipartUpload, loadS3, type AwsConnectionOptions } from './connection';
import { S3RequestError } from './errors';
import { ProblemCollector, RetailMlopsError } from '../../core/errors';
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

export interface S3ObjectStorageOptions extends AwsConnectionOptions {
  /** The bucket. */
  readonly bucket: string;
  /**
   * The folder inside the bucket that is the store's root (no leading or trailing '/').
   * @default '' (the bucket's root)
   */
  readonly prefix?: string;
  /**
   * The KMS key (id, ARN or alias ARN) every write is encrypted with: `ServerSideEncryption: aws:kms`
   * and `SSEKMSKeyId` on each PutObject and CreateMultipartUpload (and an S3 Bucket Key to cut KMS calls).
   * @default - no encryption headers: the bucket's default encryption applies
   */
  readonly kmsKeyId?: string;
  /**
   * Address the bucket as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>` (emulators).
   * @default false
   */
  readonly forcePathStyle?: boolean;
  /**
   * When the SDK adds request checksums: `WHEN_SUPPORTED` (CRC32 on every upload) or
   * `WHEN_REQUIRED`. S3 emulators such as s3rver corrupt streamed uploads with `WHEN_SUPPORTED`.
   * @default - the SDK's (`WHEN_SUPPORTED`, or $AWS_REQUEST_CHECKSUM_CALCULATION)
   */
  readonly requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /**
   * Files at least this large are uploaded in parts.
   * @default 16 MiB
   */
  readonly multipartThresholdBytes?: number;
  /**
   * Size of each part of a multipart upload (S3's minimum is 5 MiB).
   * @default 8 MiB
   */
  readonly partSizeBytes?: number;
  /**
   * Parts uploaded at once (memory: partSizeBytes × this).
   * @default 4
   */
  readonly uploadConcurrency?: number;
}

/** The S3 store: the port plus what the SageMaker mirror and the training backend need. */
export interface S3ObjectStorage extends ObjectStorage {
  readonly bucket: string;
  readonly prefix: string;
  readonly kmsKeyId?: string;
  /** `s3://bucket/prefix/key` (or the root with an empty key). */
  uriOf(key: string): string;
  /** The key of an `s3://` URI inside this store, or undefined when the URI lies elsewhere. */
  keyOf(uri: string): string | undefined;
  /** A store at another bucket and prefix with the same connection, encryption and upload settings. */
  withLocation(bucket: string, prefix: string): S3ObjectStorage;
}

const MEBIBYTE = 1024 * 1024;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Creates the S3 store (no request is made until the first call; the SDK loads then).
 * @throws InvalidOptionsError listing every problem of the options
 */
export function createS3ObjectStorage(options: S3ObjectStorageOptions): S3ObjectStorage {
  const problems = new ProblemCollector('S3 object storage options');
  checkConnectionOptions(options, problems);
  problems.check(typeof options?.bucket === 'string' && BUCKET_PATTERN.test(options.bucket), `bucket must be an S3 bucket name, got ${JSON.stringify(options?.bucket)}`);
  const prefix = options?.prefix ?? '';
  problems.check(
    typeof prefix === 'string' && (prefix === '' || (!prefix.startsWith('/') && !prefix.endsWith('/') && !prefix.split('/').some((part) => part === '' || part === '.' || part === '..'))),
    `prefix must be '' or a relative path without leading/trailing '/', got ${JSON.stringify(prefix)}`,
  );
  problems.check(options?.kmsKeyId === undefined || (typeof options.kmsKeyId === 'string' && options.kmsKeyId.length > 0), 'kmsKeyId must be a non-empty string');
  problems.check(
    options?.requestChecksumCalculation === undefined || ['WHEN_SUPPORTED', 'WHEN_REQUIRED'].includes(options.requestChecksumCalculation),
    `requestChecksumCalculation must be WHEN_SUPPORTED or WHEN_REQUIRED, got ${JSON.stringify(options?.requestChecksumCalculation)}`,
  );
  const partSizeBytes = options?.partSizeBytes ?? 8 * MEBIBYTE;
  const multipartThresholdBytes = options?.multipartThresholdBytes ?? 16 * MEBIBYTE;
  const uploadConcurrency = options?.uploadConcurrency ?? 4;
  problems.check(Number.isInteger(partSizeBytes) && partSizeBytes >= 5 * MEBIBYTE, `partSizeBytes must be an integer ≥ 5 MiB (S3's minimum part), got ${partSizeBytes}`);
  problems.check(Number.isInteger(multipartThresholdBytes) && multipartThresholdBytes >= 0, `multipartThresholdBytes must be an integer ≥ 0, got ${multipartThresholdBytes}`);
  problems.check(Number.isInteger(uploadConcurrency) && uploadConcurrency >= 1 && uploadConcurrency <= 32, `uploadConcurrency must be an integer from 1 to 32, got ${uploadConcurrency}`);
  problems.throwIfAny();
  return new S3Store({ ...options, prefix, partSizeBytes, multipartThresholdBytes, uploadConcurrency });
}

type ResolvedOptions = S3ObjectStorageOptions & {
  readonly prefix: string;
  readonly partSizeBytes: number;
  readonly multipartThresholdBytes: number;
  readonly uploadConcurrency: number;
};

class S3Store implements S3ObjectStorage {
  readonly specificationVersion = STORAGE_SPECIFICATION_VERSION;
  readonly provider = 'aws';
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly kmsKeyId?: string;
  private client?: Promise<S3Client>;

  constructor(private readonly options: ResolvedOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.kmsKeyId = options.kmsKeyId;
    this.location = `s3://${options.bucket}${options.prefix ? `/${options.prefix}` : ''}`;
  }

  uriOf(key: string): string {
    if (key !== '') assertObjectKey(key.endsWith('/') ? key.slice(0, -1) : key);
    return `${this.location}/${key}`;
  }

  keyOf(uri: string): string | undefined {
    const root = `${this.location}/`;
    return uri.startsWith(root) && uri.length > root.length ? uri.slice(root.length) : undefined;
  }

  withLocation(bucket: string, prefix: string): S3ObjectStorage {
    return createS3ObjectStorage({ ...this.options, bucket, prefix });
  }

  async put(key: string, body: Uint8Array, options?: PutObjectOptions): Promise<void> {
    const objectKey = this.objectKey(key);
    const { PutObjectCommand } = await loadS3();
    await this.send('PutObject', key, async (client) =>
      client.send(new PutObjectCommand({ ...this.writeParameters(objectKey, options), Body: body, ContentLength: body.byteLength })),
    );
  }

  async upload(key: string, file: string, options?: PutObjectOptions): Promise<void> {
    const objectKey = this.objectKey(key);
    const { size } = await fs.stat(file);
    if (size < this.options.multipartThresholdBytes) {
      const { PutObjectCommand } = await loadS3();
      await this.send('PutObject', key, async (client) =>
        client.send(new PutObjectCommand({ ...this.writeParameters(objectKey, options), Body: createReadStream(file), ContentLength: size })),
      );
      return;
    }
    const { Upload } = await loadMultipartUpload();
    await this.send('multipart upload', key, async (client) => {
      const upload = new Upload({
        client,
        params: { ...this.writeParameters(objectKey, options), Body: createReadStream(file) },
        partSize: this.options.partSizeBytes,
        queueSize: this.options.uploadConcurrency,
        leavePartsOnError: false,
      });
      return upload.done();
    });
  }

  async get(key: string): Promise<Uint8Array> {
    const found = await this.getVersioned(key);
    if (!found) throw new ObjectNotFoundError(this.location, key);
    return found.body;
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    const objectKey = this.objectKey(key);
    const { GetObjectCommand } = await loadS3();
    const response = await this.sendOrMissing('GetObject', key, async (client) => client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey })));
    if (!response) return undefined;
    return { body: await response.Body!.transformToByteArray(), etag: response.ETag ?? '' };
  }

  async download(key: string, file: string): Promise<void> {
    const objectKey = this.objectKey(key);
    const { GetObjectCommand } = await loadS3();
    const response = await this.sendOrMissing('GetObject', key, async (client) => client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey })));
    if (!response) throw new ObjectNotFoundError(this.location, key);
    const target = path.resolve(file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    try {
      await pipeline(response.Body as Readable, createWriteStream(temp));
      const written = (await fs.stat(temp)).size;
      if (response.ContentLength !== undefined && written !== response.ContentLength) {
        throw new S3RequestError('GetObject', this.uriOf(key), { cause: new Error(`the download ended after ${written} of ${response.ContentLength} bytes`) });
      }
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      if (RetailMlopsError.isInstance(error)) throw error;
      throw new S3RequestError('GetObject', this.uriOf(key), { cause: error });
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const objectKey = this.objectKey(key);
    const { HeadObjectCommand } = await loadS3();
    const response = await this.sendOrMissing('HeadObject', key, async (client) => client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey })));
    return response ? { key, size: response.ContentLength ?? 0 } : undefined;
  }

  async list(prefix: string): Promise<readonly StoredObject[]> {
    const { ListObjectsV2Command } = await loadS3();
    const root = this.prefix ? `${this.prefix}/` : '';
    const objects: StoredObject[] = [];
    let continuationToken: string | undefined;
    do {
      const token = continuationToken;
      const response = await this.send('ListObjectsV2', prefix, async (client) =>
        client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${root}${prefix}`, ContinuationToken: token })),
      );
      for (const object of response.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(root)) continue;
        objects.push({ key: object.Key.slice(root.length), size: object.Size ?? 0 });
      }
      continuationToken = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (continuationToken);
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.objectKey(key));
    const { DeleteObjectsCommand } = await loadS3();
    for (let start = 0; start < objectKeys.length; start += 1000) {
      const batch = objectKeys.slice(start, start + 1000);
      const response = await this.send('DeleteObjects', batch[0], async (client) =>
        client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failures = (response.Errors ?? []).filter((failure) => failure.Code !== 'NoSuchKey');
      if (failures.length > 0) {
        throw new S3RequestError('DeleteObjects', this.location, { cause: new Error(failures.map((failure) => `${failure.Key}: ${failure.Code} ${failure.Message}`).join('; ')) });
      }
    }
  }

  async putConditionally(
    key: string,
    body: Uint8Array,
    condition: WriteCondition,
    options?: PutObjectOptions,
  ): Promise<ConditionalWriteResult> {
    const objectKey = this.objectKey(key);
    const { PutObjectCommand } = await loadS3();
    const client = await this.clientPromise();
    try {
      const response = await client.send(
        new PutObjectCommand({
          ...this.writeParameters(objectKey, options),
          Body: body,
          ContentLength: body.byteLength,
          ...('ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : { IfMatch: condition.ifMatch }),
        }),
      );
      return { written: true, etag: response.ETag };
    } catch (error) {
      const status = httpStatusOf(error);
      // 412: the condition failed; 409: a concurrent conditional write won; 404: If-Match on a deleted object
      if (status === 412 || status === 409 || (status === 404 && 'ifMatch' in condition)) return { written: false };
      throw new S3RequestError('PutObject (conditional)', this.uriOf(key), { cause: error });
    }
  }

  // ---------------------------------------------------------------------------------------------

  private objectKey(key: string): string {
    assertObjectKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private writeParameters(objectKey: string, options?: PutObjectOptions): {
    Bucket: string;
    Key: string;
    ContentType: string;
    ServerSideEncryption?: 'aws:kms';
    SSEKMSKeyId?: string;
    BucketKeyEnabled?: boolean;
  } {
    return {
      Bucket: this.bucket,
      Key: objectKey,
      ContentType: options?.contentType ?? 'application/octet-stream',
      ...(this.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.kmsKeyId, BucketKeyEnabled: true } : {}),
    };
  }

  private clientPromise(): Promise<S3Client> {
    this.client ??= loadS3().then(
      ({ S3Client: Client }) =>
        new Client({
          ...clientConfiguration(this.options),
          forcePathStyle: this.options.forcePathStyle ?? false,
          // unset: the SDK's own default, or AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION
          ...(this.options.requestChecksumCalculation
            ? { requestChecksumCalculation: this.options.requestChecksumCalculation, responseChecksumValidation: this.options.requestChecksumCalculation }
            : {}),
        }),
    );
    return this.client;
  }

  private async send<T>(operation: string, key: string, body: (client: S3Client) => Promise<T>): Promise<T> {
    const client = await this.clientPromise();
    try {
      return await body(client);
    } catch (error) {
      throw new S3RequestError(operation, key ? this.uriOf(key) : this.location, { cause: error });
    }
  }

  /** Sends; a missing object (404, NoSuchKey, NotFound) gives undefined. */
  private async sendOrMissing<T>(operation: string, key: string, body: (client: S3Client) => Promise<T>): Promise<T | undefined> {
    const client = await this.clientPromise();
    try {
      return await body(client);
    } catch (error) {
      if (httpStatusOf(error) === 404 || errorNameOf(error) === 'NoSuchKey' || errorNameOf(error) === 'NotFound') return undefined;
      throw new S3RequestError(operation, this.uriOf(key), { cause: error });
    }
  }
}
