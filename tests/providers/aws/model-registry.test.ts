/**
 * The SageMaker model registry against the fake SageMaker control plane (stateful, in memory) and
 * s3rver: the production code's real @aws-sdk clients, pointed at loopback.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { DescribeModelPackageCommand, ListModelPackagesCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from './emulators/control-plane';
import { startS3Emulator, type S3Emulator } from './emulators/s3';
import { computeVersionIdentity } from '../../../core/registry/identity';
import type { ModelRegistry } from '../../../core/registry/port';
import type { ModelVersion } from '../../../core/registry/types';
import { createSageMakerModelRegistry, type SageMakerModelRegistryOptions } from '../../../providers/aws/model-registry';
import { createS3ObjectStorage } from '../../../providers/aws/object-storage';
import { expectCode, registryConformance } from '../../conformance/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';

const BUCKET = 'retail-mlops-registry';
const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const SERVING_IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/retail-mlops-api:1.4.0';
const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTEST', secretAccessKey: 'test-secret-not-used' };
const run = promisify(execFile);

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

/** The options of the registry at `prefix`, mirrored into the group of the same number. */
function registryOptions(prefix: string): SageMakerModelRegistryOptions {
  return {
    region: 'us-east-1',
    endpoint: controlPlane.endpoint,
    credentials: DUMMY_CREDENTIALS,
    storage: createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix, kmsKeyId: KMS_KEY }),
    modelPackageGroupName: `retail-mlops-test-${prefix.slice('registry-'.length)}`,
    servingImage: SERVING_IMAGE,
    tags: { team: 'pricing' },
  };
}

/** A registry on its own group and prefix; `instance` gives another client of the same registry (another process). */
function freshRegistry(): { registry: ModelRegistry; group: string; prefix: string; instance: () => ModelRegistry } {
  registries += 1;
  const prefix = `registry-${registries}`;
  const instance = (): ModelRegistry => createSageMakerModelRegistry(registryOptions(prefix));
  return { registry: instance(), group: registryOptions(prefix).modelPackageGroupName, prefix, instance };
}

registryConformance('aws (SageMaker Model Registry fake + s3rver)', async () => ({ registry: freshRegistry().registry, cleanup: async () => undefined }));

const sagemaker = (): SageMakerClient => new SageMakerClient({ region: 'us-east-1', endpoint: controlPlane.endpoint, credentials: DUMMY_CREDENTIALS });

describe('SageMaker model registry: what it sends and how SageMaker mirrors the aliases', () => {
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
    const folder = `s3://${BUCKET}/${prefix}/versions/${version.id}/`;
    expect(create.body).toEqual({
      ModelPackageGroupName: group,
      ModelPackageDescription: `retail-mlops model ${version.id} (#1): gbdt, accuracy 0.9100, macro-F1 0.8900`,
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
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: {
        'retail-mlops:specification-version': 'v1',
        'retail-mlops:version-id': version.id,
        'retail-mlops:sequence': '1',
        'retail-mlops:content-hash': version.contentHash,
        'retail-mlops:model-sha256': version.modelSha256,
        'retail-mlops:model-size': String(input.model.byteLength),
        'retail-mlops:record': `versions/${version.id}/version.json`,
        'retail-mlops:created-by': 'conformance-suite',
        'retail-mlops:created-at': version.createdAt,
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
    // the version's objects, in the one layout, went up encrypted with the registry's key; version.json last, only if absent
    const puts = s3.requests.filter((request) => request.method === 'PUT' && request.url.includes(`/${prefix}/`) && request.status === 200);
    const keys = puts.map((request) => decodeURIComponent(request.url.split('?')[0]).split(`/${prefix}/`)[1]);
    expect(keys.filter((key) => key.startsWith('versions/'))).toEqual([
      `versions/${version.id}/model.onnx`,
      `versions/${version.id}/artifacts/feature-statistics.json`,
      `versions/${version.id}/artifacts/report.html`,
      `versions/${version.id}/version.json`,
    ]);
    expect(puts.find((request) => request.url.includes('/version.json'))!.headers['if-none-match']).toBe('*');
    expect(new Set(keys.filter((key) => !key.startsWith('versions/')))).toEqual(new Set(['.lock', 'registry.json', 'sequence.json']));
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

  it('takes over the lock of a writer that died at once on its host, and of a silent one after staleLockMs', async () => {
    const { prefix, instance } = freshRegistry();
    const registry = instance();
    await registry.register(sampleRegistration('lock-before'));
    const storage = createS3ObjectStorage({ ...s3.connection, bucket: BUCKET, prefix });
    const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const held = (host: string, pid: number): Buffer =>
      Buffer.from(JSON.stringify({ host, pid, token: 'gone', acquiredAt: '2024-01-01T00:00:00.000Z', refreshedAt: '2024-01-01T00:00:00.000Z', released: false }));
    await storage.put('.lock', held(hostname(), Number(stdout)));
    const started = Date.now();
    await registry.setAlias('candidate', '#1', { actor: 'ci', reason: 'after a dead writer' });
    expect(Date.now() - started).toBeLessThan(5_000);

    await storage.put('.lock', held('another-host', 1));
    const patient = createSageMakerModelRegistry({ ...registryOptions(prefix), staleLockMs: 500, lockTimeoutMs: 10_000 });
    const waited = Date.now();
    await patient.setAlias('staging', '#1', { actor: 'ci', reason: 'after a silent writer' });
    expect(Date.now() - waited).toBeGreaterThanOrEqual(450);
    expect(JSON.parse(Buffer.from(await storage.get('.lock')).toString('utf8'))).toMatchObject({ host: hostname(), pid: process.pid, released: true });

    await storage.put('.lock', held('another-host', 1));
    const impatient = createSageMakerModelRegistry({ ...registryOptions(prefix), staleLockMs: 30_000, lockTimeoutMs: 300 });
    await expectCode(impatient.setAlias('production', '#1', { actor: 'ci', reason: 'blocked' }), 'REGISTRY_BUSY');
    expect((await patient.aliases()).map((state) => state.alias)).toEqual(['candidate', 'staging']);
  });

  it('keeps a registration or an alias change when SageMaker fails, says so, and mirrors it when run again', async () => {
    const { prefix, group } = freshRegistry();
    const unreachable = createSageMakerModelRegistry({ ...registryOptions(prefix), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const input = sampleRegistration('mirror-down');
    const failed = await expectCode(unreachable.register(input), 'REGISTRY_MIRROR_FAILED');
    expect(failed.message).toMatch(/is recorded in the registry, but mirroring it into SageMaker Model Package Group .* failed/);
    // the registry has the version; SageMaker does not
    const healthy = createSageMakerModelRegistry(registryOptions(prefix));
    const [version] = await healthy.list();
    expect(version.id).toBe(computeVersionIdentity(input).id);
    expect(Buffer.from(await healthy.getModelBytes(version.id)).equals(Buffer.from(input.model))).toBe(true);
    const packagesIn = async (): Promise<number> => (await sagemaker().send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList?.length ?? 0;
    expect(await packagesIn()).toBe(0);
    await expectCode(unreachable.setAlias('production', version.id, { actor: 'bob', reason: 'promoted' }), 'REGISTRY_MIRROR_FAILED');
    expect((await healthy.get('production')).id).toBe(version.id);

    // running the same calls again brings SageMaker up to date, once
    expect((await healthy.register(input)).created).toBe(false);
    expect((await healthy.setAlias('production', version.id, { actor: 'bob', reason: 'promoted' })).changed).toBe(false);
    expect(await packagesIn()).toBe(1);
    const arn = `arn:aws:sagemaker:us-east-1:111122223333:model-package/${group}/1`;
    expect((await sagemaker().send(new DescribeModelPackageCommand({ ModelPackageName: arn }))).ModelApprovalStatus).toBe('Approved');
    expect(((await sagemaker().send(new ListTagsCommand({ ResourceArn: arn }))).Tags ?? []).map((tag) => tag.Key)).toContain('retail-mlops:alias:production');
    await healthy.register(input);
    expect(await packagesIn()).toBe(1);
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
        lockTimeoutMs: -1,
      });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code: string }).code).toBe('INVALID_OPTIONS');
    expect((caught as { problems: string[] }).problems).toHaveLength(4);
  });
});
