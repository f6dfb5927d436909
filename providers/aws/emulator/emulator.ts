/**
 * Everything the AWS flow needs, on loopback: S3 (s3rver with the bucket created, conditional
 * writes added) and the SageMaker + Glue control plane, whose training jobs run for real (the
 * built-in XGBoost on Debian's python3-xgboost, the project's image as this install's own
 * `retail-mlops train-job`). `npm run emulate -- aws` starts it (bin/emulate.ts).
 *
 * The variables it announces point the AWS SDK v3 at it with no code change: it reads
 * `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_REGION`, the static keys and the checksum settings from the
 * environment itself.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane';
import { startS3Emulator, S3RVER_CREDENTIALS, type S3Emulator } from './s3';
import { createTrainingJobRunner } from './training-runner';
import { EMULATOR_ENVIRONMENT, type RunningEmulator } from '../../emulation/running-emulator';

export interface AwsEmulatorOptions {
  /**
   * Keep the state (objects, training jobs, model packages, catalog) in this directory across runs.
   * @default - a temporary directory, removed when the emulator stops
   */
  readonly dataDirectory?: string;
  /**
   * The first of two ports: S3 on `port`, SageMaker + Glue on `port + 1`.
   * @default 0 (any free ports)
   */
  readonly port?: number;
  /** @default 'retail-mlops-dev' */
  readonly bucket?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '111122223333' */
  readonly account?: string;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

/** The running emulator, with its parts (tests reach the recorded requests and fault knobs through them). */
export interface RunningAwsEmulator extends RunningEmulator {
  readonly s3: S3Emulator;
  readonly controlPlane: ControlPlane;
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<RunningAwsEmulator> {
  const bucket = options.bucket ?? 'retail-mlops-dev';
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '111122223333';
  const log = options.log ?? (() => undefined);
  const temporary = options.dataDirectory === undefined;
  const dataDirectory = options.dataDirectory ?? mkdtempSync(path.join(os.tmpdir(), 'retail-mlops-emulator-aws-'));
  mkdirSync(path.join(dataDirectory, 's3'), { recursive: true });
  const projectImage = `${account}.dkr.ecr.${region}.amazonaws.com/retail-mlops:local`;
  const basePort = options.port ?? 0;
  let s3: S3Emulator | undefined;
  let controlPlane: ControlPlane | undefined;
  try {
    s3 = await startS3Emulator([bucket], { directory: path.join(dataDirectory, 's3'), port: basePort });
    log(`S3 (s3rver) on ${s3.endpoint}, bucket ${bucket}`);
    controlPlane = await startControlPlane({
      account,
      region,
      port: basePort === 0 ? 0 : basePort + 1,
      statePath: path.join(dataDirectory, 'control-plane.json'),
      runTrainingJob: createTrainingJobRunner({ s3, projectImage, workDirectory: path.join(dataDirectory, 'jobs'), log }),
      log,
    });
    log(`SageMaker + Glue on ${controlPlane.endpoint}`);
  } catch (error) {
    await controlPlane?.close();
    await s3?.close();
    if (temporary) rmSync(dataDirectory, { recursive: true, force: true });
    throw error;
  }
  const lake = `s3://${bucket}/lake`;
  const registry = `s3://${bucket}/registry`;
  const env: Record<string, string> = {
    RETAIL_MLOPS_PROVIDER: 'aws',
    RETAIL_MLOPS_ENVIRONMENT: EMULATOR_ENVIRONMENT,
    RETAIL_MLOPS_LAKE: lake,
    RETAIL_MLOPS_REGISTRY: registry,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SAGEMAKER: controlPlane.endpoint,
    AWS_ENDPOINT_URL_GLUE: controlPlane.endpoint,
    // s3rver corrupts streamed uploads that carry the SDK's default CRC32 trailers
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    RETAIL_MLOPS_AWS_S3_FORCE_PATH_STYLE: 'true',
    RETAIL_MLOPS_AWS_ROLE_ARN: `arn:aws:iam::${account}:role/retail-mlops-sagemaker-execution`,
    RETAIL_MLOPS_AWS_IMAGE: projectImage,
  };
  const [runningS3, runningControlPlane] = [s3, controlPlane];
  return {
    provider: 'aws',
    dataDirectory,
    env,
    lake,
    registry,
    s3: runningS3,
    controlPlane: runningControlPlane,
    async close() {
      await runningControlPlane.close();
      await runningS3.close();
      if (temporary) rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}
