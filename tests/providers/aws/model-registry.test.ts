/**
 * The SageMaker model registry against the fake SageMaker control plane (stateful, in memory) and
 * s3rver: the production code's real @aws-sdk clients, pointed at loopback.
 */
import { DescribeModelPackageCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../../../core/registry/port';
import type { ModelVersion } from '../../../core/registry/types';
import { startControlPlane, type ControlPlane } from '../../../providers/aws/emulator/control-plane';
import { startS3Emulator, type S3Emulator } from '../../../providers/aws/emulator/s3';
import { createSageMakerModelRegistry } from '../../../providers/aws/model-registry';
import { createS3ObjectStorage, type S3ObjectStorage } from '../../../providers/aws/object-storage';
import { registryConformance } from '../../conformance/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';

const BUCKET = 'retail-mlops-registry';
const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const SERVING_IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/retail-mlops-api:1.4.0';
const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-not-used' };

let s3: S3Emulator;
let controlPlane: ControlPlane;
let registries = 0;

beforeAll(async () => {
  s3 = await startS3Emulator([BUCKET]);
  controlPlane = await startControlPlane();
});
afterAll(async () => {
  await controlPlane?.close();
  await s3?.close();
});

/** A registry on its own group and prefix; `instance` gives another client of the same registry (another process). */
function freshRegistry(): { registry: ModelRegistry; group: string; prefix: string; instance: () => ModelRegistry } {
  registries += 1;
  const group = `retail-mlops-test-${registries}`;
  const prefix = `registry-${registries}`;
  const instance = (): ModelRegistry =>
    createSageMakerModelRegistry({
      region: 'us-east-1',
      endpoint: controlPlane.endpoint,
      credentials: DUMMY_CREDENTIALS,
      storage: createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix, kmsKeyId: KMS_KEY }),
      modelPackageGroupName: group,
      servingImage: SERVING_IMAGE,
      tags: { team: 'pricing' },
    });
  return { registry: instance(), group, prefix, instance };
}

registryConformance('aws (SageMaker Model Registry fake + s3rver)', async () => ({ registry: freshRegistry().registry, cleanup: async () => undefined }));

describe('SageMaker model registry: what it sends and how SageMaker mirrors the aliases', () => {
  const sagemaker = (): SageMakerClient => new SageMakerClient({ region: 'us-east-1', endpoint: controlPlane.endpoint, credentials: DUMMY_CREDENTIALS });

  it('creates the group once and each version as a model package, with exactly this CreateModelPackage body', async () => {
    const { registry, group, prefix } = freshRegistry();
    const before = controlPlane.requests.length;
    const input = sampleRegistration('body');
    const { version } = await registry.register(input);
    const sent = controlPlane.requests.slice(before);
    expect(sent.map((request) => request.target).filter((target) => target.includes('Group'))).toEqual([
      'SageMaker.DescribeModelPackageGroup',
      'SageMaker.CreateModelPackageGroup',
    ]);
    const create = sent.find((request) => request.target === 'SageMaker.CreateModelPackage')!;
    expect(create.headers['x-amz-target']).toBe('SageMaker.CreateModelPackage');
    expect(create.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(create.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
    const metadata = create.body.CustomerMetadataProperties as Record<string, string>;
    const registration = metadata['retail-mlops:registration'];
    expect(registration).toMatch(/^[0-9a-f]{12}$/);
    const folder = `s3://${BUCKET}/${prefix}/versions/${version.id}/${registration}/`;
    expect(create.body).toEqual({
      ModelPackageGroupName: group,
      ModelPackageDescription: `retail-mlops model ${version.id}: gbdt, accuracy 0.9100, macro-F1 0.8900`,
      ClientToken: expect.stringMatching(/^[0-9a-f]{36}$/),
      InferenceSpecification: {
        Containers: [
          {
            Image: SERVING_IMAGE,
            ModelDataSource: { S3DataSource: { S3Uri: folder, S3DataType: 'S3Prefix', CompressionType: 'None' } },
            Environment: { RETAIL_MLOPS_MODEL_FILE: 'model.onnx', RETAIL_MLOPS_FEATURE_STATISTICS_FILE: 'artifacts/feature-statistics.json' },
          },
        ],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: `${folder}metrics.json` } } },
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: {
        'retail-mlops:specification-version': 'v1',
        'retail-mlops:version-id': version.id,
        'retail-mlops:content-hash': version.contentHash,
        'retail-mlops:model-sha256': version.modelSha256,
        'retail-mlops:model-size': String(input.model.byteLength),
        'retail-mlops:record': `versions/${version.id}/${registration}/record.json`,
        'retail-mlops:record-sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
        'retail-mlops:registration': registration,
        'retail-mlops:created-by': 'conformance-suite',
        'retail-mlops:algorithm': 'gbdt',
        'retail-mlops:accuracy': '0.91',
        'retail-mlops:macro-f1': '0.89',
        'retail-mlops:log-loss': '0.25',
        'retail-mlops:evaluated-rows': '3699',
        'retail-mlops:lake-version': 'lake-20240501-0001',
        'retail-mlops:code-commit': '9ccc1a5',
        'retail-mlops:feature-spec': `1 ${input.lineage.featureSpecHash}`,
        'retail-mlops:training-weeks': '200607,200608,200609',
        'retail-mlops:evaluation-weeks': '200610',
        'retail-mlops:lineage-sha256': expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      Tags: [{ Key: 'team', Value: 'pricing' }, { Key: 'retail-mlops:version-id', Value: version.id }],
    });
    for (const value of Object.values(metadata)) expect(value.length).toBeLessThanOrEqual(1024);
    // every object of the version went up encrypted with the registry's key
    const puts = s3.requests.filter((request) => request.method === 'PUT' && request.url.includes(`/${prefix}/versions/${version.id}/`));
    expect(puts.map((request) => decodeURIComponent(request.url.split('?')[0]).split(`/${version.id}/`)[1]).sort()).toEqual([
      `${registration}/artifacts/feature-statistics.json`,
      `${registration}/artifacts/report.html`,
      `${registration}/metrics.json`,
      `${registration}/model.onnx`,
      `${registration}/record.json`,
      'package.json',
    ]);
    for (const put of puts) expect(put.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe(KMS_KEY);
  });

  it('mirrors aliases: the alias tag on the current target only; staging and production approve; candidate stays pending', async () => {
    const { registry, group } = freshRegistry();
    const one = (await registry.register(sampleRegistration('mirror-one'))).version;
    const two = (await registry.register(sampleRegistration('mirror-two'))).version;
    const arnOf = (sequence: number): string => `arn:aws:sagemaker:us-east-1:111122223333:model-package/${group}/${sequence}`;
    const client = sagemaker();
    const state = async (sequence: number): Promise<{ approval?: string; tags: string[] }> => ({
      approval: (await client.send(new DescribeModelPackageCommand({ ModelPackageName: arnOf(sequence) }))).ModelApprovalStatus,
      tags: ((await client.send(new ListTagsCommand({ ResourceArn: arnOf(sequence) }))).Tags ?? [])
        .map((tag) => tag.Key!)
        .filter((key) => key.startsWith('retail-mlops:alias:'))
        .sort(),
    });

    await registry.setAlias('candidate', one.id, { actor: 'ci', reason: 'gate passed' });
    expect(await state(one.sequence)).toEqual({ approval: 'PendingManualApproval', tags: ['retail-mlops:alias:candidate'] });
    await registry.setAlias('production', one.id, { actor: 'bob', reason: 'promoted after review #42' });
    expect(await state(one.sequence)).toEqual({ approval: 'Approved', tags: ['retail-mlops:alias:candidate', 'retail-mlops:alias:production'] });
    const approval = controlPlane.requestsOf('UpdateModelPackage').at(-1)!.body;
    expect(approval).toEqual({ ModelPackageArn: arnOf(one.sequence), ModelApprovalStatus: 'Approved', ApprovalDescription: 'production: bob: promoted after review #42' });
    await registry.setAlias('candidate', two.id, { actor: 'ci', reason: 'gate passed' });
    expect(await state(one.sequence)).toEqual({ approval: 'Approved', tags: ['retail-mlops:alias:production'] });
    expect(await state(two.sequence)).toEqual({ approval: 'PendingManualApproval', tags: ['retail-mlops:alias:candidate'] });
    await registry.setAlias('production', 'candidate', { actor: 'bob', reason: 'promoted after review #43' });
    expect(await state(one.sequence)).toEqual({ approval: 'Approved', tags: [] });
    expect(await state(two.sequence)).toEqual({ approval: 'Approved', tags: ['retail-mlops:alias:candidate', 'retail-mlops:alias:production'] });
  });

  it('keeps each alias history as one append-only JSON-lines object, rewritten only by conditional writes', async () => {
    const { registry, prefix } = freshRegistry();
    const one = (await registry.register(sampleRegistration('history-one'))).version;
    const two = (await registry.register(sampleRegistration('history-two'))).version;
    await registry.setAlias('staging', one.id, { actor: 'ci', reason: 'first' });
    await registry.setAlias('staging', two.id, { actor: 'ci', reason: 'second' });
    const storage = createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix });
    const lines = Buffer.from(await storage.get('aliases/staging.jsonl')).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { to: string });
    expect(lines.map((line) => line.to)).toEqual([one.id, two.id]);
    const writes = s3.requests.filter((request) => request.method === 'PUT' && request.url.includes(`/${prefix}/aliases/staging.jsonl`));
    expect(writes).toHaveLength(2);
    expect(writes[0].headers['if-none-match']).toBe('*');
    expect(writes[1].headers['if-match']).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('stays consistent across processes: two clients of one registry move an alias and register identical content in parallel', async () => {
    const { instance } = freshRegistry();
    const first = instance();
    const second = instance();
    const versions: ModelVersion[] = [];
    for (let index = 0; index < 3; index++) versions.push((await first.register(sampleRegistration(`processes-${index}`))).version);
    const moves = Array.from({ length: 12 }, (_, index) =>
      (index % 2 === 0 ? first : second).setAlias('production', versions[index % 3].id, { actor: `writer-${index}`, reason: `move ${index}` }),
    );
    const results = await Promise.all(moves);
    const history = await second.aliasHistory('production');
    expect(history).toHaveLength(results.filter((result) => result.changed).length);
    history.forEach((change, index) => {
      expect(change.sequence).toBe(index + 1);
      expect(change.from).toBe(index === 0 ? null : history[index - 1].to);
    });
    expect((await first.get('production')).id).toBe(history.at(-1)!.to);

    const identical = await Promise.all([first, second, first, second].map((registry) => registry.register(sampleRegistration('processes-same'))));
    expect(new Set(identical.map((result) => result.version.id)).size).toBe(1);
    expect(identical.filter((result) => result.created)).toHaveLength(1);
    expect((await second.list()).map((version) => version.sequence)).toEqual([1, 2, 3, 4]);
  });

  it('retries an alias change that lost a conditional-write race, on top of the winner\'s change', async () => {
    const { prefix, group } = freshRegistry();
    const storage = createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix });
    const options = { region: 'us-east-1', endpoint: controlPlane.endpoint, credentials: DUMMY_CREDENTIALS, modelPackageGroupName: group, servingImage: SERVING_IMAGE };
    const competitor = createSageMakerModelRegistry({ ...options, storage });
    let raced = false;
    // a store that lets the competitor change the alias between this writer's read and its write
    const racing: S3ObjectStorage = {
      ...storage,
      put: (...args) => storage.put(...args),
      upload: (...args) => storage.upload(...args),
      get: (...args) => storage.get(...args),
      download: (...args) => storage.download(...args),
      head: (...args) => storage.head(...args),
      list: (...args) => storage.list(...args),
      delete: (...args) => storage.delete(...args),
      uriOf: (...args) => storage.uriOf(...args),
      keyOf: (...args) => storage.keyOf(...args),
      withLocation: (...args) => storage.withLocation(...args),
      getVersioned: (...args) => storage.getVersioned(...args),
      async putConditionally(key, body, condition, putOptions) {
        if (key === 'aliases/production.jsonl' && !raced) {
          raced = true;
          await competitor.setAlias('production', '#2', { actor: 'competitor', reason: 'got there first' });
        }
        return storage.putConditionally(key, body, condition, putOptions);
      },
    };
    const writer = createSageMakerModelRegistry({ ...options, storage: racing });
    const one = (await writer.register(sampleRegistration('race-one'))).version;
    const two = (await writer.register(sampleRegistration('race-two'))).version;
    const before = s3.requests.length;
    const result = await writer.setAlias('production', one.id, { actor: 'writer', reason: 'lost the race, then retried' });
    expect(s3.requests.slice(before).filter((request) => request.url.includes('/aliases/production.jsonl') && request.status === 412)).toHaveLength(1);
    expect(result.change).toMatchObject({ from: two.id, to: one.id, sequence: 2 });
    expect((await competitor.aliasHistory('production')).map((change) => [change.from, change.to, change.actor])).toEqual([
      [null, two.id, 'competitor'],
      [two.id, one.id, 'writer'],
    ]);
  });

  it('validates its options eagerly, listing every problem', () => {
    let caught: unknown;
    try {
      createSageMakerModelRegistry({
        region: 'us-east-1',
        storage: createS3ObjectStorage({ region: 'us-east-1', bucket: 'a-bucket' }),
        modelPackageGroupName: 'not a name',
        servingImage: '',
        tags: { 'retail-mlops:alias:x': 'y' },
        maxAliasRetries: -1,
      });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((caught as { problems: string[] }).problems).toHaveLength(4);
  });
});
