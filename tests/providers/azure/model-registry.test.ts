import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeControlPlane, staticTokenCredential, type FakeControlPlane } from './fake-control-plane';
import { InvalidOptionsError } from '../../../core/errors';
import { computeVersionIdentity } from '../../../core/registry/identity';
import { createManagementClient } from '../../../providers/azure/management-client';
import { createAzureMlModelRegistry, modelVersionBody } from '../../../providers/azure/model-registry';
import { expectCode, registryConformance } from '../../conformance/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';
import { azuriteCredential, startAzurite, type RunningAzurite } from '../../helpers/azurite';

const SUBSCRIPTION = '00000000-0000-0000-0000-00000000aaaa';
let azurite: RunningAzurite;
let controlPlane: FakeControlPlane;

beforeAll(async () => {
  [azurite, controlPlane] = await Promise.all([startAzurite(), startFakeControlPlane()]);
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), controlPlane?.close()]);
});

async function freshRegistry(options: { readonly prefix?: string } = {}) {
  const suffix = randomBytes(4).toString('hex');
  const container = `registry-${suffix}`;
  const credential = await azuriteCredential();
  const { BlobServiceClient } = await import('@azure/storage-blob');
  await new BlobServiceClient(azurite.accountUrl, credential).getContainerClient(container).create();
  const registry = await createAzureMlModelRegistry({
    subscriptionId: SUBSCRIPTION,
    resourceGroup: 'rg-retail-mlops',
    workspace: 'mlw-retail-mlops',
    modelName: `price-sensitivity-${suffix}`,
    location: `${azurite.accountUrl}/${container}${options.prefix ? `/${options.prefix}` : ''}`,
    credential: staticTokenCredential,
    storageCredential: credential,
    managementEndpoint: controlPlane.endpoint,
    trustedCertificates: controlPlane.certificate,
  });
  return { registry, modelName: `price-sensitivity-${suffix}`, container };
}

registryConformance('azure (azurite + fake Azure ML control plane)', async () => {
  const { registry } = await freshRegistry({ prefix: 'registry' });
  return { registry, cleanup: async () => undefined };
});

describe('Azure ML model registry', () => {
  it('sends exactly the model version it means, and mirrors aliases into tags', async () => {
    const { registry, modelName } = await freshRegistry();
    const before = controlPlane.requests.length;
    const { version } = await registry.register(sampleRegistration('wire'));
    await registry.setAlias('production', version.id, { actor: 'ci', reason: 'promoted' });
    const calls = controlPlane.requests.slice(before);
    const base = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-retail-mlops/providers/Microsoft.MachineLearningServices/workspaces/mlw-retail-mlops/models/${modelName}`;
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      `GET ${base}`,
      `PUT ${base}`,
      `PUT ${base}/versions/1`,
      `PUT ${base}/versions/1`,
    ]);
    expect(calls.every((call) => call.query['api-version'] === '2022-10-01' && call.headers.authorization === 'Bearer test-token')).toBe(true);
    const firstPut = JSON.parse(calls[2].body);
    expect(firstPut).toEqual({
      properties: {
        description: `retail-mlops ${version.id}: gbdt, accuracy 0.91, macro-F1 0.89`,
        isAnonymous: false,
        isArchived: false,
        modelType: 'custom_model',
        modelUri: `azureml://datastores/registry/paths/versions/${version.id}/`,
        tags: { 'retail-mlops.version-id': version.id },
        properties: {
          'retail-mlops.version-id': version.id,
          'retail-mlops.content-hash': version.contentHash,
          'retail-mlops.model-sha256': version.modelSha256,
          'retail-mlops.model-file': 'model.onnx',
          'retail-mlops.record': `versions/${version.id}/version.json`,
          'retail-mlops.lake-version': 'lake-20240501-0001',
          'retail-mlops.input-files': `raw/lgsr-200607.csv.gz@${version.lineage.inputFiles[0].sha256.slice(0, 12)}`,
          'retail-mlops.feature-spec-version': '1',
          'retail-mlops.feature-spec-hash': version.lineage.featureSpecHash,
          'retail-mlops.code-commit': '9ccc1a5',
          'retail-mlops.algorithm': 'gbdt',
          'retail-mlops.parameters': '{"depth":6,"learningRate":0.1,"rounds":200,"seed":42}',
          'retail-mlops.training-weeks': '200607,200608,200609',
          'retail-mlops.evaluation-weeks': '200610',
          'retail-mlops.accuracy': '0.91',
          'retail-mlops.macro-f1': '0.89',
          'retail-mlops.created-by': 'conformance-suite',
          'retail-mlops.created-at': version.createdAt,
        },
      },
    });
    const aliasPut = JSON.parse(calls[3].body);
    const change = (await registry.aliasHistory('production'))[0];
    expect(aliasPut).toEqual({ properties: { ...firstPut.properties, tags: { 'retail-mlops.version-id': version.id, 'retail-mlops.alias.production': change.at } } });
    expect(aliasPut).toEqual(JSON.parse(JSON.stringify(modelVersionBody(version, { datastore: 'registry', prefix: '' }, { production: change.at }))));
  });

  it('moves the alias tag from the old version to the new one', async () => {
    const { registry } = await freshRegistry();
    const one = (await registry.register(sampleRegistration('tag-one'))).version;
    const two = (await registry.register(sampleRegistration('tag-two'))).version;
    await registry.setAlias('staging', one.id, { actor: 'ci', reason: 'first' });
    const before = controlPlane.requests.length;
    await registry.setAlias('staging', two.id, { actor: 'ci', reason: 'second' });
    const puts = controlPlane.requests.slice(before).filter((call) => call.method === 'PUT');
    expect(puts.map((call) => call.path.split('/').at(-1))).toEqual(['2', '1']);
    expect(Object.keys(JSON.parse(puts[0].body).properties.tags)).toContain('retail-mlops.alias.staging');
    expect(Object.keys(JSON.parse(puts[1].body).properties.tags)).not.toContain('retail-mlops.alias.staging');
  });

  it('answers from Blob Storage alone: listing and resolving never call Azure ML', async () => {
    const { registry } = await freshRegistry();
    for (let index = 0; index < 3; index++) await registry.register(sampleRegistration(`page-${index}`));
    const before = controlPlane.requests.length;
    expect((await registry.list()).map((version) => version.sequence)).toEqual([1, 2, 3]);
    expect((await registry.get('#2')).sequence).toBe(2);
    expect(controlPlane.requests.length).toBe(before);
  });

  it('does not take an Azure ML version without its record (a writer that died half way) for a version', async () => {
    const { registry, modelName } = await freshRegistry();
    const { version } = await registry.register(sampleRegistration('orphan'));
    const { client } = await createManagementClient({
      subscriptionId: SUBSCRIPTION,
      credential: staticTokenCredential,
      endpoint: controlPlane.endpoint,
      trustedCertificates: controlPlane.certificate,
    });
    await client.modelVersions.createOrUpdate('rg-retail-mlops', 'mlw-retail-mlops', modelName, '9', modelVersionBody({ ...version, sequence: 9 }, { datastore: 'registry', prefix: '' }, {}));
    await expectCode(registry.get('#9'), 'MODEL_VERSION_NOT_FOUND');
    expect((await registry.list()).map((listed) => listed.sequence)).toEqual([1]);
  });

  it('keeps a registration when Azure ML fails (REGISTRY_MIRROR_FAILED, the cause kept), and mirrors it when registered again', async () => {
    const { registry, modelName } = await freshRegistry();
    const input = sampleRegistration('mirror-down');
    controlPlane.failNext(10);
    const error = await expectCode(registry.register(input), 'REGISTRY_MIRROR_FAILED');
    controlPlane.failNext(0);
    expect((error.cause as { code?: string }).code).toBe('AZURE_REQUEST_FAILED');
    expect((error.cause as { statusCode?: number }).statusCode).toBe(503);
    const [version] = await registry.list();
    expect(version.id).toBe(computeVersionIdentity(input).id);
    expect(Buffer.from(await registry.getModelBytes('#1')).equals(Buffer.from(input.model))).toBe(true);

    const before = controlPlane.requests.length;
    expect((await registry.register(input)).created).toBe(false);
    const puts = controlPlane.requests.slice(before).filter((call) => call.method === 'PUT');
    expect(puts.map((call) => call.path.split(`/models/${modelName}`)[1])).toEqual(['', '/versions/1']);
  });

  it('validates every option at once', async () => {
    const error = await createAzureMlModelRegistry({
      subscriptionId: 'not-a-guid',
      resourceGroup: '',
      workspace: 'x',
      location: 'ftp://nowhere',
      managementEndpoint: 'http://127.0.0.1:1',
      lockTimeoutMs: -5,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toHaveLength(6);
  });
});
