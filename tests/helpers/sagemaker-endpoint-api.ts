/**
 * A loopback stand-in of SageMaker's endpoint APIs (awsJson1_1, the shapes of the SageMaker API
 * reference: DescribeEndpoint/EndpointConfig/Model, CreateModel, CreateEndpointConfig, UpdateEndpoint),
 * stateful and recording the exact bodies, seeded with what the stack creates: a serving model, its
 * config and the endpoint `retail-mlops-production`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface EndpointApi {
  readonly endpoint: string;
  readonly requests: { target: string; body: Json }[];
  readonly state: { endpoints: Map<string, Json>; configs: Map<string, Json>; models: Map<string, Json> };
  close(): Promise<void>;
}

const ARN = 'arn:aws:sagemaker:eu-west-1:111122223333';
export const REPOSITORY = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/retail-mlops-production/api';
export const OLD_DIGEST = `sha256:${'1a'.repeat(32)}`;
export const NEW_DIGEST = `sha256:${'2b'.repeat(32)}`;

export async function startEndpointApi(): Promise<EndpointApi> {
  const requests: { target: string; body: Json }[] = [];
  const endpoints = new Map<string, Json>();
  const configs = new Map<string, Json>();
  const models = new Map<string, Json>();
  const now = (): number => Math.floor(Date.now() / 1000);
  const fail = (type: string, message: string): never => {
    throw Object.assign(new Error(message), { type });
  };
  const actions: Record<string, (body: Json) => Json> = {
    DescribeEndpoint: (body) => endpoints.get(body.EndpointName) ?? fail('ValidationException', `Could not find endpoint "${body.EndpointName}".`),
    DescribeEndpointConfig: (body) => configs.get(body.EndpointConfigName) ?? fail('ValidationException', `Could not find endpoint configuration "${body.EndpointConfigName}".`),
    DescribeModel: (body) => models.get(body.ModelName) ?? fail('ValidationException', `Could not find model "${body.ModelName}".`),
    CreateModel: (body) => {
      if (!body.ModelName || !body.ExecutionRoleArn || !body.PrimaryContainer?.Image) fail('ValidationException', 'ModelName, ExecutionRoleArn and a container image are required');
      if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(body.ModelName)) fail('ValidationException', `ModelName ${body.ModelName} does not satisfy the pattern`);
      if (models.has(body.ModelName)) fail('ValidationException', `Cannot create already existing model "${body.ModelName}".`);
      models.set(body.ModelName, { ...body, ModelArn: `${ARN}:model/${body.ModelName}`, CreationTime: now() });
      return { ModelArn: `${ARN}:model/${body.ModelName}` };
    },
    CreateEndpointConfig: (body) => {
      for (const variant of body.ProductionVariants ?? []) if (!models.has(variant.ModelName)) fail('ValidationException', `Could not find model "${variant.ModelName}".`);
      configs.set(body.EndpointConfigName, { ...body, EndpointConfigArn: `${ARN}:endpoint-config/${body.EndpointConfigName}`, CreationTime: now() });
      return { EndpointConfigArn: `${ARN}:endpoint-config/${body.EndpointConfigName}` };
    },
    UpdateEndpoint: (body) => {
      const endpoint = endpoints.get(body.EndpointName) ?? fail('ValidationException', `Could not find endpoint "${body.EndpointName}".`);
      if (endpoint.EndpointStatus !== 'InService') fail('ValidationException', `Cannot update in-progress endpoint "${body.EndpointName}".`);
      if (!configs.has(body.EndpointConfigName)) fail('ValidationException', `Could not find endpoint configuration "${body.EndpointConfigName}".`);
      const routing = body.DeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration;
      if (routing?.Type === 'CANARY' && (!routing.CanarySize || routing.WaitIntervalInSeconds === undefined)) fail('ValidationException', 'CANARY needs CanarySize and WaitIntervalInSeconds');
      Object.assign(endpoint, { EndpointStatus: 'Updating', EndpointConfigName: body.EndpointConfigName, LastModifiedTime: now() });
      return { EndpointArn: endpoint.EndpointArn };
    },
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '').replace(/^SageMaker\./, '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Json;
      requests.push({ target, body });
      let status = 200;
      let answer: Json;
      try {
        answer = (actions[target] ?? (() => fail('UnknownOperationException', target)))(body);
      } catch (error) {
        status = 400;
        answer = { __type: (error as { type: string }).type, message: (error as Error).message };
      }
      const text = JSON.stringify(answer);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // what the stack created: the serving model, its config and the endpoint
  const serving = 'retail-mlops-production-model-a';
  models.set(serving, {
    ModelName: serving,
    ModelArn: `${ARN}:model/${serving}`,
    ExecutionRoleArn: 'arn:aws:iam::111122223333:role/retail-mlops-production-endpoint',
    PrimaryContainer: { Image: `${REPOSITORY}@${OLD_DIGEST}`, Environment: { RETAIL_MLOPS_HOSTING: 'sagemaker', RETAIL_MLOPS_REGISTRY: 's3://bucket/registry', RETAIL_MLOPS_MODEL: 'v-000000000001' } },
    VpcConfig: { Subnets: ['subnet-1', 'subnet-2'], SecurityGroupIds: ['sg-1'] },
    CreationTime: now(),
  });
  configs.set('config-a', {
    EndpointConfigName: 'config-a',
    EndpointConfigArn: `${ARN}:endpoint-config/config-a`,
    ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: serving, InstanceType: 'ml.c6i.large', InitialInstanceCount: 2, InitialVariantWeight: 1 }],
    KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/data',
    CreationTime: now(),
  });
  endpoints.set('retail-mlops-production', {
    EndpointName: 'retail-mlops-production',
    EndpointArn: `${ARN}:endpoint/retail-mlops-production`,
    EndpointConfigName: 'config-a',
    EndpointStatus: 'InService',
    CreationTime: now(),
    LastModifiedTime: now(),
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    state: { endpoints, configs, models },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

