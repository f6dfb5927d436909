/**
 * The SageMaker/Glue emulator holds requests and its own answers to the SDK's service model (the
 * runtime schemas @aws-sdk/client-sagemaker ships), so it cannot drift into agreeing with our code:
 * a malformed request is refused the way SageMaker refuses it, and faults can be injected.
 */
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTrainingJobCommand, DescribeModelPackageGroupCommand, DescribeTrainingJobResponse$, SageMakerClient, type CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../../providers/aws/emulator/control-plane';
import { startAwsEmulator } from '../../../providers/aws/emulator/emulator';
import { shapeViolations } from '../../../providers/aws/emulator/service-shapes';
import { createS3ObjectStorage } from '../../../providers/aws/object-storage';
import { temporaryDirectory } from '../../helpers/paths';

const CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'not-a-secret' };
let controlPlane: ControlPlane;
let client: SageMakerClient;

beforeAll(async () => {
  controlPlane = await startControlPlane();
  client = new SageMakerClient({ region: 'us-east-1', endpoint: controlPlane.endpoint, credentials: CREDENTIALS });
});
afterAll(async () => {
  client?.destroy();
  await controlPlane?.close();
});

/** A raw awsJson request, for bodies the SDK would never send. */
function post(target: string, body: object | string, requestPath = '/'): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const url = new URL(controlPlane.endpoint);
    const request = http.request(
      { host: url.hostname, port: url.port, method: 'POST', path: requestPath, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, 'content-length': Buffer.byteLength(text) } },
      (response) => {
        let answer = '';
        response.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(answer) as Record<string, unknown> }));
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

const VALID_JOB = {
  TrainingJobName: 'valid-job',
  RoleArn: 'arn:aws:iam::111122223333:role/retail-mlops-sagemaker-execution',
  AlgorithmSpecification: { TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', TrainingInputMode: 'File' },
  OutputDataConfig: { S3OutputPath: 's3://bucket/jobs/' },
  ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
};

describe('the SageMaker emulator against the service model', () => {
  it('refuses a request without required members as SageMaker does (400 ValidationException, every violation listed), and creates nothing', async () => {
    const error = await client.send(new CreateTrainingJobCommand({ TrainingJobName: 'half-a-job' } as CreateTrainingJobCommandInput)).catch((caught: unknown) => caught);
    expect((error as { name: string }).name).toBe('ValidationException');
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
    expect((error as Error).message).toBe(
      "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'outputDataConfig' failed to satisfy constraint: Member must not be null",
    );
    const missing = await post('SageMaker.DescribeTrainingJob', { TrainingJobName: 'half-a-job' });
    expect(missing).toMatchObject({ status: 400, json: { __type: 'ResourceNotFound' } });
  });

  it('refuses members the model does not have and values of the wrong type (what a hand-made or drifted client would send)', async () => {
    const unknown = await post('SageMaker.CreateTrainingJob', { ...VALID_JOB, TrainingJobName: 'colourful', Colour: 'blue' });
    expect(unknown).toMatchObject({ status: 400, json: { __type: 'SerializationException' } });
    expect(String(unknown.json.message)).toContain('Unrecognized field "Colour"');
    const wrongType = await post('SageMaker.CreateTrainingJob', { ...VALID_JOB, TrainingJobName: 'typed', ResourceConfig: { ...VALID_JOB.ResourceConfig, InstanceCount: 'one' } });
    expect(wrongType).toMatchObject({ status: 400, json: { __type: 'ValidationException' } });
    expect(String(wrongType.json.message)).toContain("Value at 'resourceConfig.instanceCount' must be a number, got a string");
    const notJson = await post('SageMaker.CreateTrainingJob', '{not json');
    expect(notJson).toMatchObject({ status: 400, json: { __type: 'SerializationException' } });
    const unknownAction = await post('SageMaker.DeleteEverything', {});
    expect(unknownAction).toMatchObject({ status: 400, json: { __type: 'UnknownOperationException' } });
  });

  it('accepts a valid request, and its answers carry every member the model requires', async () => {
    expect(await post('SageMaker.CreateTrainingJob', VALID_JOB)).toMatchObject({ status: 200, json: { TrainingJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:training-job/valid-job' } });
    const described = await post('SageMaker.DescribeTrainingJob', { TrainingJobName: 'valid-job' });
    expect(described.status).toBe(200);
    expect(shapeViolations(DescribeTrainingJobResponse$, described.json)).toEqual([]);
    // the check the emulator runs on its answers does catch an incomplete one
    expect(shapeViolations(DescribeTrainingJobResponse$, { TrainingJobName: 'x' }).map((violation) => violation.path)).toEqual([
      'trainingJobArn', 'modelArtifacts', 'trainingJobStatus', 'secondaryStatus', 'stoppingCondition', 'creationTime',
    ]);
  });

  it('injects faults: the SDK retries throttling with backoff; a 403 reaches the caller after one attempt', async () => {
    await client.send(new CreateTrainingJobCommand({ ...VALID_JOB, TrainingJobName: 'group-probe' } as CreateTrainingJobCommandInput));
    const before = controlPlane.requestsOf('DescribeModelPackageGroup').length;
    const admin = await post('', { count: 2, status: 400, code: 'ThrottlingException', message: 'Rate exceeded', operation: 'DescribeModelPackageGroup' }, '/_emulator/fail-next');
    expect(admin.status).toBe(200);
    const throttled = await client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'absent' })).catch((caught: unknown) => caught);
    // two throttled attempts, then the real answer (the group does not exist)
    expect(controlPlane.requestsOf('DescribeModelPackageGroup').length - before).toBe(3);
    expect((throttled as { name: string }).name).toBe('ValidationException');
    controlPlane.failNext(1, { status: 403, code: 'AccessDeniedException', message: 'User is not authorized to perform: sagemaker:DescribeModelPackageGroup' });
    const denied = await client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'absent' })).catch((caught: unknown) => caught);
    expect((denied as { name: string }).name).toBe('AccessDeniedException');
    expect((denied as { $metadata: { attempts: number } }).$metadata.attempts).toBe(1);
    const refused = await post('', { count: 0, status: 200, code: '' }, '/_emulator/fail-next');
    expect(refused.status).toBe(400);
  });
});

describe('the AWS emulator\'s state', () => {
  it('keeps objects and the control plane in --data across restarts; without it, leaves nothing behind', async () => {
    const data = temporaryDirectory('emulator-data-');
    try {
      const first = await startAwsEmulator({ dataDirectory: data.path });
      const bucket = new URL(first.lake).host;
      await createS3ObjectStorage({ ...first.s3.connection, bucket }).put('kept.txt', Buffer.from('kept'));
      const firstClient = new SageMakerClient({ region: 'us-east-1', endpoint: first.controlPlane.endpoint, credentials: CREDENTIALS });
      await firstClient.send(new CreateTrainingJobCommand({ ...VALID_JOB, TrainingJobName: 'kept-job' } as CreateTrainingJobCommandInput)).catch(() => undefined);
      firstClient.destroy();
      await first.close();
      const second = await startAwsEmulator({ dataDirectory: data.path });
      try {
        expect(Buffer.from(await createS3ObjectStorage({ ...second.s3.connection, bucket }).get('kept.txt')).toString()).toBe('kept');
        const secondClient = new SageMakerClient({ region: 'us-east-1', endpoint: second.controlPlane.endpoint, credentials: CREDENTIALS });
        const { DescribeTrainingJobCommand } = await import('@aws-sdk/client-sagemaker');
        const kept = await secondClient.send(new DescribeTrainingJobCommand({ TrainingJobName: 'kept-job' }));
        secondClient.destroy();
        expect(kept.TrainingJobName).toBe('kept-job');
      } finally {
        await second.close();
      }
    } finally {
      data.remove();
    }
    const throwaway = await startAwsEmulator();
    expect(path.dirname(throwaway.dataDirectory)).toBe(os.tmpdir());
    expect(existsSync(path.join(throwaway.dataDirectory, 's3'))).toBe(true);
    await throwaway.close();
    expect(existsSync(throwaway.dataDirectory)).toBe(false);
  });
});
