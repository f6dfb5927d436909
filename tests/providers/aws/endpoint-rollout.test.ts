/**
 * Rolling a SageMaker endpoint to a new model version and image: the real @aws-sdk/client-sagemaker
 * against a loopback stand-in of the endpoint APIs (awsJson1_1, the shapes of the SageMaker API
 * reference: DescribeEndpoint/EndpointConfig/Model, CreateModel, CreateEndpointConfig, UpdateEndpoint),
 * recording the exact bodies. Blue/green with guardrails, the serving model's role and network kept,
 * idempotent when nothing changes, refused while an update runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutSageMakerEndpoint } from '../../../providers/aws/endpoint-rollout';
import { NEW_DIGEST, REPOSITORY, startEndpointApi, type EndpointApi } from '../../helpers/sagemaker-endpoint-api';

describe('rolloutSageMakerEndpoint', () => {
  let api: EndpointApi;
  beforeAll(async () => {
    api = await startEndpointApi();
  });
  afterAll(() => api.close());
  const options = () => ({
    region: 'eu-west-1',
    endpoint: api.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    endpointName: 'retail-mlops-production',
    imageRepository: REPOSITORY,
    imageDigest: NEW_DIGEST,
    modelVersion: 'v-000000000002',
  });

  it('creates a model and a config from the serving ones, then updates the endpoint blue/green with auto-rollback alarms', async () => {
    const result = await rolloutSageMakerEndpoint(options());
    expect(result).toMatchObject({ changed: true, previousModel: 'retail-mlops-production-model-a' });
    expect(api.requests.map((request) => request.target)).toEqual([
      'DescribeEndpoint', 'DescribeEndpointConfig', 'DescribeModel', 'CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint',
    ]);
    const create = api.requests[3].body;
    expect(create.ModelName).toMatch(/^retail-mlops-production-v-000000000002-2b2b2b2b2b2b$/);
    expect(create).toMatchObject({
      ExecutionRoleArn: 'arn:aws:iam::111122223333:role/retail-mlops-production-endpoint',
      PrimaryContainer: { Image: `${REPOSITORY}@${NEW_DIGEST}`, Environment: { RETAIL_MLOPS_HOSTING: 'sagemaker', RETAIL_MLOPS_REGISTRY: 's3://bucket/registry', RETAIL_MLOPS_MODEL: 'v-000000000002' } },
      VpcConfig: { Subnets: ['subnet-1', 'subnet-2'], SecurityGroupIds: ['sg-1'] },
    });
    expect(api.requests[4].body).toMatchObject({
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: create.ModelName, InstanceType: 'ml.c6i.large', InitialInstanceCount: 2 }],
      KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/data',
    });
    expect(api.requests[5].body).toEqual({
      EndpointName: 'retail-mlops-production',
      EndpointConfigName: create.ModelName,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 300 },
          TerminationWaitInSeconds: 300,
          MaximumExecutionTimeoutInSeconds: 3600,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'retail-mlops-production-endpoint-5xx' }, { AlarmName: 'retail-mlops-production-endpoint-latency-p99' }] },
      },
    });
  });

  it('refuses while the endpoint is updating, and does nothing once it serves that image and version', async () => {
    await expect(rolloutSageMakerEndpoint(options())).rejects.toThrow(/is Updating, not InService/);
    api.state.endpoints.get('retail-mlops-production')!.EndpointStatus = 'InService';
    const before = api.requests.length;
    const again = await rolloutSageMakerEndpoint(options());
    expect(again.changed).toBe(false);
    expect(api.requests.slice(before).map((request) => request.target)).toEqual(['DescribeEndpoint', 'DescribeEndpointConfig', 'DescribeModel']);
  });

  it('names a missing endpoint in its error', async () => {
    await expect(rolloutSageMakerEndpoint({ ...options(), endpointName: 'retail-mlops-qa' })).rejects.toThrow(/ENDPOINT_ROLLOUT_FAILED|DescribeEndpoint retail-mlops-qa failed: Could not find endpoint/);
  });
});
