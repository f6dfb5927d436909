/**
 * Rolls a SageMaker real-time endpoint (the infra's ModelEndpoint) over to a new model version and
 * image, blue/green: a new Model (the serving one's role, network and environment, with the new image
 * digest and RETAIL_MLOPS_MODEL), a new EndpointConfig (the same variants on the new model), and
 * UpdateEndpoint with SageMaker's deployment guardrails: a canary share of the capacity first, then
 * the rest, rolled back by SageMaker itself when one of the endpoint's alarms fires. SageMaker keeps
 * serving the old fleet until the new one is healthy: the update never drops traffic.
 *
 * Nothing changes when the endpoint already serves that image and version (idempotent).
 */
import { clientConfiguration, loadSageMaker, type AwsConnectionOptions } from './connection';
import { checkImageDigest, EndpointRolloutError, type EndpointRelease, type EndpointRolloutResult } from '../../core/deployment/endpoint-rollout';

/** The release (the canary is a share of the endpoint's capacity; SageMaker watches the alarms meanwhile) and the connection. */
export interface SageMakerRolloutOptions extends AwsConnectionOptions, EndpointRelease {
  /** The alarms that roll the update back. @default `<endpoint>-endpoint-5xx`, `<endpoint>-endpoint-latency-p99` (the infra's) */
  readonly rollbackAlarms?: readonly string[];
}

const MODEL_VARIABLE = 'RETAIL_MLOPS_MODEL';

/** A SageMaker resource name: letters, digits, hyphens, at most 63 characters. */
function resourceName(endpointName: string, modelVersion: string, imageDigest: string): string {
  const suffix = `${modelVersion.replace(/[^A-Za-z0-9-]/g, '-')}-${imageDigest.replace(/^sha256:/, '').slice(0, 12)}`;
  return `${endpointName.slice(0, 63 - suffix.length - 1)}-${suffix}`.replace(/-+/g, '-');
}

export async function rolloutSageMakerEndpoint(options: SageMakerRolloutOptions): Promise<EndpointRolloutResult> {
  checkImageDigest(options.imageDigest);
  const sdk = await loadSageMaker();
  const client = new sdk.SageMakerClient(clientConfiguration(options));
  const send = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw new EndpointRolloutError(`SageMaker ${what} failed: ${(error as Error).message}`, { cause: error });
    }
  };
  try {
    const endpoint = await send(`DescribeEndpoint ${options.endpointName}`, () => client.send(new sdk.DescribeEndpointCommand({ EndpointName: options.endpointName })));
    if (endpoint.EndpointStatus !== 'InService') {
      throw new EndpointRolloutError(`endpoint ${options.endpointName} is ${endpoint.EndpointStatus}, not InService: wait for the running update (or fix the failed one) first`);
    }
    const config = await send(`DescribeEndpointConfig ${endpoint.EndpointConfigName}`, () =>
      client.send(new sdk.DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName })),
    );
    const variants = config.ProductionVariants ?? [];
    const currentModelName = variants[0]?.ModelName;
    if (!currentModelName) throw new EndpointRolloutError(`endpoint config ${endpoint.EndpointConfigName} has no production variant`);
    const current = await send(`DescribeModel ${currentModelName}`, () => client.send(new sdk.DescribeModelCommand({ ModelName: currentModelName })));
    const container = current.PrimaryContainer ?? current.Containers?.[0];
    const image = `${options.imageRepository}@${options.imageDigest}`;
    if (container?.Image === image && container.Environment?.[MODEL_VARIABLE] === options.modelVersion) {
      return { endpointName: options.endpointName, changed: false, model: currentModelName, configuration: endpoint.EndpointConfigName, strategy: 'already serving' };
    }

    const name = resourceName(options.endpointName, options.modelVersion, options.imageDigest);
    await send(`CreateModel ${name}`, () =>
      client.send(new sdk.CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: current.ExecutionRoleArn,
        PrimaryContainer: { Image: image, Environment: { ...container?.Environment, [MODEL_VARIABLE]: options.modelVersion } },
        ...(current.VpcConfig ? { VpcConfig: current.VpcConfig } : {}),
        EnableNetworkIsolation: current.EnableNetworkIsolation ?? false,
        Tags: [{ Key: 'retail-mlops:model', Value: options.modelVersion }],
      })),
    );
    await send(`CreateEndpointConfig ${name}`, () =>
      client.send(new sdk.CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: variants.map((variant) => ({ ...variant, ModelName: name })),
        ...(config.KmsKeyId ? { KmsKeyId: config.KmsKeyId } : {}),
        Tags: [{ Key: 'retail-mlops:model', Value: options.modelVersion }],
      })),
    );
    const canaryPercent = options.canaryPercent ?? 10;
    const canaryWaitSeconds = options.canaryWaitSeconds ?? 300;
    const alarms = options.rollbackAlarms ?? [`${options.endpointName}-endpoint-5xx`, `${options.endpointName}-endpoint-latency-p99`];
    await send(`UpdateEndpoint ${options.endpointName}`, () =>
      client.send(new sdk.UpdateEndpointCommand({
        EndpointName: options.endpointName,
        EndpointConfigName: name,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: canaryPercent }, WaitIntervalInSeconds: canaryWaitSeconds },
            TerminationWaitInSeconds: 300,
            MaximumExecutionTimeoutInSeconds: 3600,
          },
          AutoRollbackConfiguration: { Alarms: alarms.map((AlarmName) => ({ AlarmName })) },
        },
      })),
    );
    return {
      endpointName: options.endpointName,
      changed: true,
      model: name,
      configuration: name,
      previousModel: currentModelName,
      strategy: `blue/green: ${canaryPercent}% canary for ${canaryWaitSeconds} s, then all traffic; SageMaker rolls back if ${alarms.join(' or ')} fires`,
    };
  } finally {
    client.destroy();
  }
}
