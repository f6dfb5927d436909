import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Emulator, type S3Emulator } from './emulators/s3';
import { createS3ObjectStorage } from '../../../providers/aws/object-storage';
import { storageConformance } from '../../conformance/storage';

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7';
let emulator: S3Emulator;
let tests = 0;

beforeAll(async () => {
  emulator = await startS3Emulator(['retail-mlops-conformance']);
});
afterAll(async () => {
  await emulator?.close();
});

storageConformance('aws (s3rver)', async () => {
  tests += 1;
  const storage = createS3ObjectStorage({
    ...emulator.connection,
    bucket: 'retail-mlops-conformance',
    prefix: `lake/run-${tests}`,
    kmsKeyId: KMS_KEY,
    // the suite's 12 MiB file goes up in three parts
    multipartThresholdBytes: 5 * 1024 * 1024,
    partSizeBytes: 5 * 1024 * 1024,
  });
  return { storage, cleanup: async () => storage.delete((await storage.list('')).map((object) => object.key)) };
});

describe('S3 object storage: what it sends', () => {
  it('encrypts every write with the given KMS key, and uploads large files in parts', () => {
    const writes = emulator.requests.filter((request) => request.method === 'PUT' && !request.url.includes('partNumber='));
    const multipartStarts = emulator.requests.filter((request) => request.method === 'POST' && request.url.includes('?uploads'));
    const parts = emulator.requests.filter((request) => request.method === 'PUT' && request.url.includes('partNumber='));
    expect(writes.length).toBeGreaterThan(5);
    expect(multipartStarts).toHaveLength(1);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const request of [...writes, ...multipartStarts]) {
      expect(request.headers['x-amz-server-side-encryption'], request.url).toBe('aws:kms');
      expect(request.headers['x-amz-server-side-encryption-aws-kms-key-id'], request.url).toBe(KMS_KEY);
    }
  });
});

describe('S3 object storage: conditional write headers, URIs, options', () => {
  it('sends conditional writes as If-None-Match / If-Match headers (S3\'s compare-and-swap)', async () => {
    const storage = createS3ObjectStorage({ ...emulator.connection, bucket: 'retail-mlops-conformance', prefix: 'conditional' });
    const before = emulator.requests.length;
    const first = await storage.putConditionally('aliases/production.jsonl', Buffer.from('one\n'), { ifNoneMatch: '*' });
    await storage.putConditionally('aliases/production.jsonl', Buffer.from('one\ntwo\n'), { ifMatch: first.etag! });
    const puts = emulator.requests.slice(before).filter((request) => request.method === 'PUT');
    expect(puts.map((request) => [request.headers['if-none-match'], request.headers['if-match']])).toEqual([
      ['*', undefined],
      [undefined, first.etag],
    ]);
  });

  it('names keys as s3:// URIs under its prefix', () => {
    const storage = createS3ObjectStorage({ region: 'eu-west-1', bucket: 'models-bucket', prefix: 'team/registry' });
    expect(storage.location).toBe('s3://models-bucket/team/registry');
    expect(storage.uriOf('versions/v-0123456789ab/')).toBe('s3://models-bucket/team/registry/versions/v-0123456789ab/');
    expect(createS3ObjectStorage({ region: 'eu-west-1', bucket: 'models-bucket' }).uriOf('a/b')).toBe('s3://models-bucket/a/b');
  });

  it('validates its options eagerly, listing every problem', () => {
    let caught: unknown;
    try {
      createS3ObjectStorage({ region: 'Europe', bucket: 'No_Such', prefix: '/abs/', endpoint: 'ftp://x', kmsKeyId: '', partSizeBytes: 1024, uploadConcurrency: 0 });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((caught as { problems: string[] }).problems).toHaveLength(7);
  });
});
