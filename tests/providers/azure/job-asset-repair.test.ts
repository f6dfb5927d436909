/**
 * The `uri_folder` serializer bug of @azure/arm-machinelearning at api-version 2022-10-01, shown on
 * the wire, and its repair (providers/azure/job-asset-repair.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeControlPlane, staticTokenCredential, type FakeControlPlane } from './fake-control-plane';
import { repairJobBody } from '../../../providers/azure/job-asset-repair';
import { createManagementClient } from '../../../providers/azure/management-client';

const SUBSCRIPTION = '00000000-0000-0000-0000-00000000bbbb';
let controlPlane: FakeControlPlane;
beforeAll(async () => {
  controlPlane = await startFakeControlPlane();
});
afterAll(async () => {
  await controlPlane?.close();
});

const lakeInput = { jobInputType: 'uri_folder' as const, mode: 'Download' as const, uri: 'azureml://datastores/lake/paths/lakes/team-a/' };
const modelOutput = { jobOutputType: 'uri_folder' as const, mode: 'Upload' as const, uri: 'azureml://datastores/lake/paths/training-jobs/j/output/' };
const commandJob = () => ({
  properties: {
    jobType: 'Command' as const,
    command: 'retail-mlops train-job --lake ${{inputs.lake}} --out ${{outputs.model}}',
    environmentId: 'azureml:retail-mlops:1',
    inputs: { lake: lakeInput, seed: { jobInputType: 'literal' as const, value: '7' } },
    outputs: { model: modelOutput },
  },
});

type Bindings = Record<string, Record<string, unknown>>;
async function sentBody(name: string): Promise<{ inputs: Bindings; outputs: Bindings }> {
  const request = controlPlane.requests.filter((call) => call.method === 'PUT' && call.path.endsWith(`/jobs/${name}`)).at(-1);
  expect(request, `a PUT of job ${name}`).toBeDefined();
  return JSON.parse(request!.body).properties;
}

describe('the uri_folder serializer bug (api-version 2022-10-01)', () => {
  it('the bare SDK client drops uri and mode of asset inputs and outputs on the wire', async () => {
    const { AzureMachineLearningWorkspaces } = await import('@azure/arm-machinelearning');
    const bare = new AzureMachineLearningWorkspaces(staticTokenCredential, SUBSCRIPTION, {
      endpoint: controlPlane.endpoint,
      credentialScopes: ['https://management.azure.com/.default'],
      tlsOptions: { ca: controlPlane.certificate },
    });
    expect(bare.apiVersion).toBe('2022-10-01');
    // the emulator holds requests to the service's model: the job the bare client sends is refused, as Azure ML refuses it
    const refused = await bare.jobs.createOrUpdate('rg', 'mlw-retail-mlops', 'bare-sdk-job', commandJob()).catch((caught: unknown) => caught);
    expect((refused as { statusCode?: number }).statusCode).toBe(400);
    expect((refused as Error).message).toContain("Required property 'uri' not found in JSON. Path 'properties.inputs.lake'");
    const sent = await sentBody('bare-sdk-job');
    // If an SDK upgrade fixes the bug these two expectations fail: the repair then restores nothing
    // (see the next test), and this test should be changed to document the fixed behaviour.
    expect(sent.inputs.lake).toEqual({ jobInputType: 'uri_folder' });
    expect(sent.outputs.model).toEqual({ jobOutputType: 'uri_folder' });
    // literal inputs are registered under the right discriminator key and survive
    expect(sent.inputs.seed).toEqual({ jobInputType: 'literal', value: '7' });
  });

  it('the provider\'s client (with the repair policy) sends them', async () => {
    const { client, jobAssetRepair } = await createManagementClient({
      subscriptionId: SUBSCRIPTION,
      credential: staticTokenCredential,
      endpoint: controlPlane.endpoint,
      trustedCertificates: controlPlane.certificate,
    });
    await client.environmentVersions.createOrUpdate('rg', 'mlw-retail-mlops', 'retail-mlops', '1', { properties: { image: 'retailmlops.azurecr.io/retail-mlops:1' } });
    const job = commandJob();
    const url = `https://management.azure.com/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw-retail-mlops/jobs/repaired-job`;
    await jobAssetRepair.repairedCreate(url, job.properties, () => client.jobs.createOrUpdate('rg', 'mlw-retail-mlops', 'repaired-job', job));
    const sent = await sentBody('repaired-job');
    expect(sent.inputs.lake).toEqual(lakeInput);
    expect(sent.outputs.model).toEqual(modelOutput);
    expect(sent.inputs.seed).toEqual({ jobInputType: 'literal', value: '7' });

    // armed for that one job only: another job's PUT through the same client is left alone
    await expect(client.jobs.createOrUpdate('rg', 'mlw-retail-mlops', 'unarmed-job', commandJob())).rejects.toThrow(/Required property 'uri'/);
    expect((await sentBody('unarmed-job')).inputs.lake).toEqual({ jobInputType: 'uri_folder' });
  });

  it('restores only what is missing, and reports what it restored', () => {
    const serialized = JSON.stringify({ properties: { jobType: 'Command', inputs: { lake: { jobInputType: 'uri_folder', mode: 'ReadOnlyMount' } }, outputs: { model: { jobOutputType: 'uri_folder' } } } });
    const { body, restored } = repairJobBody(serialized, { inputs: { lake: lakeInput }, outputs: { model: modelOutput } });
    expect(restored).toEqual(['inputs.lake.uri', 'outputs.model.mode', 'outputs.model.uri']);
    expect(JSON.parse(body).properties.inputs.lake).toEqual({ ...lakeInput, mode: 'ReadOnlyMount' });
    expect(repairJobBody('{"properties":{"jobType":"Command"}}', { inputs: { lake: lakeInput } })).toEqual({ body: '{"properties":{"jobType":"Command"}}', restored: [] });
  });
});
