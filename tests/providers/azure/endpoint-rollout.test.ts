/**
 * Rolling an Azure ML managed online endpoint to a new model version and image by traffic split: the
 * real @azure/arm-machinelearning client (bearer authentication included) against an HTTPS loopback
 * stand-in of the online-endpoint, deployment and environment-version routes (api-version 2022-10-01,
 * the SDK's), recording each request. The other colour is created, takes the canary share, then all
 * traffic; the old one is deleted; nothing happens when it already serves the version.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticTokenCredential } from './fake-control-plane';
import { rolloutAzureMlEndpoint } from '../../../providers/azure/endpoint-rollout';
import { selfSignedCertificate } from '../../helpers/self-signed-certificate';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKSPACE = '/subscriptions/00000000-0000-0000-0000-00000000000c/resourceGroups/rg-retail-mlops-production/providers/Microsoft.MachineLearningServices/workspaces/mlw-retailmlops-production';
const OLD_DIGEST = `sha256:${'1a'.repeat(32)}`;
const NEW_DIGEST = `sha256:${'2b'.repeat(32)}`;
const ROUTES = { livenessRoute: { path: '/healthz', port: 8080 }, readinessRoute: { path: '/readyz', port: 8080 }, scoringRoute: { path: '/score', port: 8080 } };

interface ArmStandIn {
  readonly url: string;
  readonly certificate: string;
  readonly requests: { method: string; path: string; body: Json | undefined }[];
  readonly resources: Map<string, Json>;
  close(): Promise<void>;
}

async function startArmStandIn(): Promise<ArmStandIn> {
  const { certificate, privateKey } = selfSignedCertificate();
  const requests: ArmStandIn['requests'] = [];
  const resources = new Map<string, Json>();
  const server: Server = createServer({ cert: certificate, key: privateKey }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'https://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Json) : undefined;
      requests.push({ method: request.method ?? '', path: url.pathname, body });
      const send = (status: number, document?: Json): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(document === undefined ? '' : JSON.stringify(document));
      };
      if (!url.searchParams.get('api-version')) return send(400, { error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter is required.' } });
      if (request.headers.authorization !== 'Bearer test-token') return send(401, { error: { code: 'AuthenticationFailed', message: 'no bearer token' } });
      const id = url.pathname;
      if (request.method === 'GET') return resources.has(id) ? send(200, resources.get(id)) : send(404, { error: { code: 'ResourceNotFound', message: `${id} not found` } });
      if (request.method === 'DELETE') {
        resources.delete(id);
        return send(200);
      }
      if (request.method === 'PUT') {
        if (/\/deployments\/[^/]+$/.test(id)) {
          const environment = resources.get(String(body?.properties?.environmentId));
          if (!environment) return send(400, { error: { code: 'UserError', message: `environment ${body?.properties?.environmentId} not found` } });
        }
        if (/\/onlineEndpoints\/[^/]+$/.test(id)) {
          const traffic = (body?.properties?.traffic ?? {}) as Record<string, number>;
          const total = Object.values(traffic).reduce((sum, share) => sum + share, 0);
          if (total !== 100 && total !== 0) return send(400, { error: { code: 'BadArgument', message: `traffic must add up to 100, got ${total}` } });
          for (const deployment of Object.keys(traffic)) {
            if (!resources.has(`${id}/deployments/${deployment}`)) return send(400, { error: { code: 'BadArgument', message: `deployment ${deployment} does not exist` } });
          }
        }
        const stored = { ...body, id, name: id.split('/').at(-1), properties: { ...body?.properties, provisioningState: 'Succeeded' } };
        resources.set(id, stored);
        return send(200, stored);
      }
      return send(405, { error: { code: 'MethodNotAllowed', message: request.method } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `${WORKSPACE}/onlineEndpoints/rm-retailmlops-production`;
  resources.set(`${WORKSPACE}/environments/retail-mlops-api/versions/1a1a1a1a1a1a`, {
    id: `${WORKSPACE}/environments/retail-mlops-api/versions/1a1a1a1a1a1a`,
    properties: { image: `crretailmlopsproduction.azurecr.io/retail-mlops@${OLD_DIGEST}`, osType: 'Linux', inferenceConfig: ROUTES },
  });
  resources.set(endpoint, { id: endpoint, name: 'rm-retailmlops-production', location: 'westeurope', kind: 'Managed', identity: { type: 'SystemAssigned' }, properties: { authMode: 'Key', traffic: { blue: 100 }, provisioningState: 'Succeeded' } });
  resources.set(`${endpoint}/deployments/blue`, {
    id: `${endpoint}/deployments/blue`,
    name: 'blue',
    location: 'westeurope',
    kind: 'Managed',
    sku: { name: 'Default', capacity: 2 },
    properties: {
      endpointComputeType: 'Managed',
      instanceType: 'Standard_F2s_v2',
      environmentId: `${WORKSPACE}/environments/retail-mlops-api/versions/1a1a1a1a1a1a`,
      environmentVariables: { RETAIL_MLOPS_HOSTING: 'azureml', RETAIL_MLOPS_REGISTRY: 'https://stretailmlopsproduction.blob.core.windows.net/registry', RETAIL_MLOPS_MODEL: 'v-000000000001' },
      provisioningState: 'Succeeded',
    },
  });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    certificate,
    requests,
    resources,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('rolloutAzureMlEndpoint', () => {
  let arm: ArmStandIn;
  const waits: number[] = [];
  beforeAll(async () => {
    arm = await startArmStandIn();
  });
  afterAll(() => arm.close());
  const options = () => ({
    subscriptionId: '00000000-0000-0000-0000-00000000000c',
    resourceGroup: 'rg-retail-mlops-production',
    workspace: 'mlw-retailmlops-production',
    endpointName: 'rm-retailmlops-production',
    imageRepository: 'crretailmlopsproduction.azurecr.io/retail-mlops',
    imageDigest: NEW_DIGEST,
    modelVersion: 'v-000000000002',
    canaryPercent: 20,
    canaryWaitSeconds: 120,
    credential: staticTokenCredential,
    managementEndpoint: arm.url,
    trustedCertificates: arm.certificate,
    sleep: async (milliseconds: number) => {
      waits.push(milliseconds);
    },
  });

  it('creates the other colour with the new image, splits the traffic, then moves it all and deletes the old one', async () => {
    const result = await rolloutAzureMlEndpoint(options());
    expect(result).toMatchObject({ changed: true, model: 'green', previousModel: 'blue' });
    const writes = arm.requests.filter((request) => request.method !== 'GET');
    const endpoint = `${WORKSPACE}/onlineEndpoints/rm-retailmlops-production`;
    expect(writes.map((request) => `${request.method} ${request.path}`)).toEqual([
      `PUT ${WORKSPACE}/environments/retail-mlops-api/versions/2b2b2b2b2b2b`,
      `PUT ${endpoint}/deployments/green`,
      `PUT ${endpoint}`,
      `PUT ${endpoint}`,
      `DELETE ${endpoint}/deployments/blue`,
    ]);
    expect(writes[0].body?.properties).toMatchObject({ image: `crretailmlopsproduction.azurecr.io/retail-mlops@${NEW_DIGEST}`, inferenceConfig: ROUTES });
    expect(writes[1].body).toMatchObject({
      sku: { name: 'Default', capacity: 2 },
      properties: {
        instanceType: 'Standard_F2s_v2',
        environmentId: `${WORKSPACE}/environments/retail-mlops-api/versions/2b2b2b2b2b2b`,
        environmentVariables: { RETAIL_MLOPS_HOSTING: 'azureml', RETAIL_MLOPS_MODEL: 'v-000000000002' },
      },
    });
    expect(writes[2].body?.properties.traffic).toEqual({ blue: 80, green: 20 });
    expect(writes[3].body?.properties.traffic).toEqual({ green: 100 });
    expect(waits).toEqual([120_000]);
  });

  it('does nothing when the serving deployment already runs that image and model version', async () => {
    const before = arm.requests.length;
    const again = await rolloutAzureMlEndpoint(options());
    expect(again).toMatchObject({ changed: false, model: 'green' });
    expect(arm.requests.slice(before).every((request) => request.method === 'GET')).toBe(true);
  });
});
