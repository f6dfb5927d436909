/**
 * The Azure ML emulator holds requests and its own answers to @azure/arm-machinelearning's models,
 * takes only the tokens its managed-identity endpoint issued for Resource Manager, and a
 * DefaultAzureCredential gets those tokens from the environment alone (App Service's protocol).
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { selfSignedCertificate } from '../../../providers/azure/emulator/certificate';
import { startAzureMlControlPlane, type AzureMlControlPlane } from '../../../providers/azure/emulator/control-plane';
import { startTokenEndpoint, type TokenEndpoint } from '../../../providers/azure/emulator/token-endpoint';
import { createManagementClient } from '../../../providers/azure/management-client';

const SUBSCRIPTION = '00000000-0000-0000-0000-0000000e0000';
const WORKSPACE_PATH = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw`;
const MANAGEMENT = ['https://management.azure.com', 'https://management.azure.com/'];
let tokens: TokenEndpoint;
let controlPlane: AzureMlControlPlane;
const { certificate, privateKey } = selfSignedCertificate();

beforeAll(async () => {
  tokens = await startTokenEndpoint();
  controlPlane = await startAzureMlControlPlane({
    certificate,
    privateKey,
    workspaces: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', workspace: 'mlw', datastores: { lake: 'lake' } }],
    verifyToken: (token) => tokens.verify(token, MANAGEMENT),
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await controlPlane?.close();
  await tokens?.close();
});

async function tokenFor(resource: string): Promise<string> {
  const url = new URL(tokens.endpoint);
  url.searchParams.set('api-version', '2019-08-01');
  url.searchParams.set('resource', resource);
  const response = await fetch(url, { headers: { 'X-IDENTITY-HEADER': tokens.header } });
  return ((await response.json()) as { access_token: string }).access_token;
}

function call(method: string, path: string, token: string | undefined, body?: object): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${controlPlane.endpoint}${path}${path.includes('?') ? '&' : '?'}api-version=2022-10-01`);
    const text = body === undefined ? '' : JSON.stringify(body);
    const request = httpsRequest(
      url,
      { method, ca: certificate, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (response) => {
        let answer = '';
        response.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: answer ? (JSON.parse(answer) as Record<string, unknown>) : {} }));
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

describe('the Azure ML emulator', () => {
  it('takes only tokens its identity endpoint issued for Resource Manager', async () => {
    expect((await call('GET', WORKSPACE_PATH, undefined)).status).toBe(401);
    expect(await call('GET', WORKSPACE_PATH, await tokenFor('https://storage.azure.com'))).toMatchObject({ status: 401, json: { error: { code: 'InvalidAuthenticationToken' } } });
    const forged = (await tokenFor('https://management.azure.com')).replace(/\.[^.]+$/, '.forged');
    expect((await call('GET', WORKSPACE_PATH, forged)).status).toBe(401);
    expect(await call('GET', WORKSPACE_PATH, await tokenFor('https://management.azure.com'))).toMatchObject({ status: 200, json: { name: 'mlw' } });
    expect(await fetch(tokens.endpoint)).toMatchObject({ status: 401 });
  });

  it('gives DefaultAzureCredential its tokens from IDENTITY_ENDPOINT and IDENTITY_HEADER alone', async () => {
    vi.stubEnv('IDENTITY_ENDPOINT', tokens.endpoint);
    vi.stubEnv('IDENTITY_HEADER', tokens.header);
    const { DefaultAzureCredential } = await import('@azure/identity');
    const credential = new DefaultAzureCredential();
    const { client } = await createManagementClient({ subscriptionId: SUBSCRIPTION, credential, endpoint: controlPlane.endpoint, trustedCertificates: certificate });
    const datastore = await client.datastores.get('rg', 'mlw', 'lake');
    expect(datastore.properties).toMatchObject({ datastoreType: 'AzureBlob', containerName: 'lake' });
    vi.unstubAllEnvs();
  });

  it('refuses a request that breaks the service model as Azure ML does (400 UserError, every violation listed), and creates nothing', async () => {
    const token = await tokenFor('https://management.azure.com');
    const answer = await call('PUT', `${WORKSPACE_PATH}/jobs/malformed`, token, {
      properties: { jobType: 'Command', environmentId: 'azureml:env:1', colour: 'blue', inputs: { lake: { jobInputType: 'uri_folder', mode: 'Download' } } },
    });
    expect(answer.status).toBe(400);
    const error = (answer.json as { error: { code: string; details: { target: string; message: string }[] } }).error;
    expect(error.code).toBe('UserError');
    expect(error.details.map((detail) => detail.target).sort()).toEqual(['properties.colour', 'properties.command', 'properties.inputs.lake.uri']);
    expect(error.details.find((detail) => detail.target === 'properties.colour')?.message).toBe("Could not find member 'colour' on object of type 'CommandJob'. Path 'properties.colour'");
    expect((await call('GET', `${WORKSPACE_PATH}/jobs/malformed`, token)).status).toBe(404);
    const unknownKind = await call('PUT', `${WORKSPACE_PATH}/jobs/odd`, token, { properties: { jobType: 'Telepathy' } });
    expect(JSON.stringify(unknownKind.json)).toContain('is not a known JobBaseProperties type');
  });

  it('refuses a job naming a compute or an environment the workspace lacks', async () => {
    const token = await tokenFor('https://management.azure.com');
    const answer = await call('PUT', `${WORKSPACE_PATH}/jobs/orphan`, token, {
      properties: { jobType: 'Command', command: 'echo hi', environmentId: 'azureml:missing:1', computeId: `${WORKSPACE_PATH}/computes/gpu-cluster` },
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toContain('Compute');
    expect(JSON.stringify(answer.json)).toContain('Environment azureml:missing:1 not found');
  });

  it('answers an unknown workspace with ARM\'s 404 ResourceNotFound', async () => {
    const token = await tokenFor('https://management.azure.com');
    const answer = await call('GET', WORKSPACE_PATH.replace(/mlw$/, 'nowhere'), token);
    expect(answer).toMatchObject({ status: 404, json: { error: { code: 'ResourceNotFound' } } });
  });
});
