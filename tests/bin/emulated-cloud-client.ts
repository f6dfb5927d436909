/**
 * A user's process on an emulated cloud (run by tests/bin/emulate.test.ts through tsx, in a fresh
 * process whose environment is the one `npm run emulate` printed, nothing else of AWS or Azure):
 * the SDK clients and the providers are created without any endpoint, credential or certificate
 * option, so they can only reach the emulator through the environment. Prints one JSON summary.
 *
 *   tsx tests/bin/emulated-cloud-client.ts aws|azure <scratch directory>
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FEATURE_SPEC } from '../../core/features/spec';
import { ingest } from '../../core/lake/ingest';
import { Lake } from '../../core/lake/lake';
import { pushLake } from '../../core/lake/lake-sync';
import type { ObjectStorage } from '../../core/storage/port';
import { trainInProcess } from '../../core/training/in-process';
import { defaultTimeSplit, TRAINING_SPECIFICATION_VERSION, type TrainingBackend, type TrainingJob } from '../../core/training/port';
import { SAMPLE_FILES } from '../helpers/paths';

interface Summary {
  readonly objectRoundTrip: boolean;
  /** The service that answered a bare Glue client (AWS only). */
  readonly glueAnswer?: string;
  readonly trained: Record<string, { readonly engine: string; readonly accuracy: number; readonly sameOnnxAsLocal?: boolean }>;
  readonly failure?: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function job(name: string, algorithm: string, weeks: readonly number[], hyperparameters: TrainingJob['hyperparameters']): TrainingJob {
  return {
    specificationVersion: TRAINING_SPECIFICATION_VERSION,
    name,
    dataset: { uri: required('RETAIL_MLOPS_LAKE'), version: 1 },
    split: defaultTimeSplit(weeks),
    featureSpec: { version: FEATURE_SPEC.version, hash: FEATURE_SPEC.hash },
    algorithm,
    hyperparameters,
    seed: 7,
  };
}

async function localLake(scratch: string): Promise<Lake> {
  const directory = path.join(scratch, 'lake');
  await ingest({ inputs: SAMPLE_FILES.slice(0, 3), lake: directory });
  return Lake.open(directory);
}

async function trainBoth(backend: TrainingBackend, lake: Lake, trained: Record<string, Summary['trained'][string]>, xgboost: boolean): Promise<void> {
  const lr = job('emulated-lr', 'lr', lake.weeks(), { maxIterations: 60 });
  const model = await backend.train(lr);
  const local = await trainInProcess({ ...lr, dataset: { uri: lake.root, version: 1 } });
  trained.lr = { engine: model.engine, accuracy: model.metrics.accuracy, sameOnnxAsLocal: Buffer.from(model.onnx).equals(Buffer.from(local.onnx)) };
  if (xgboost) {
    const boosted = await backend.train(job('emulated-xgboost', 'sagemaker-xgboost', lake.weeks(), { num_round: 30, max_depth: 4, eta: 0.3, early_stopping_rounds: 5 }));
    trained['sagemaker-xgboost'] = { engine: boosted.engine, accuracy: boosted.metrics.accuracy };
  }
}

async function roundTrip(storage: ObjectStorage, scratch: string): Promise<boolean> {
  // a streamed upload of a file (what s3rver corrupts when the SDK adds checksum trailers)
  const file = path.join(scratch, 'payload.bin');
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, index) => (index * 31) % 251));
  await fs.writeFile(file, payload);
  await storage.upload('round-trip/payload.bin', file);
  return Buffer.from(await storage.get('round-trip/payload.bin')).equals(payload);
}

/** The environment as the CLI resolves it: from the variables alone (no settings file in `scratch`). */
async function openFromVariables(scratch: string) {
  const { openEnvironment, resolveEnvironment } = await import('../../providers/environment.js');
  process.env.RETAIL_MLOPS_CACHE_DIR = path.join(scratch, 'cache');
  return openEnvironment(resolveEnvironment({ variables: process.env, directory: scratch, uses: ['lake', 'registry', 'training'] }));
}

async function aws(scratch: string): Promise<Summary> {
  const { S3Client, PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const [bucket] = required('RETAIL_MLOPS_LAKE').slice('s3://'.length).split('/');
  // the bare SDK client: region, endpoint, credentials and checksum settings all come from the environment
  const s3 = new S3Client({ forcePathStyle: required('RETAIL_MLOPS_AWS_S3_FORCE_PATH_STYLE') === 'true' });
  const file = path.join(scratch, 'bare.txt');
  await fs.writeFile(file, 'bare SDK client, configured by the environment\n');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bare/object.txt', Body: createReadStream(file), ContentLength: (await fs.stat(file)).size }));
  const read = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bare/object.txt' }))).Body!.transformToString();
  // the provider, through the resolver every command uses
  const environment = await openFromVariables(scratch);
  const objectRoundTrip = read === (await fs.readFile(file, 'utf8')) && (await roundTrip(await environment.storage(`s3://${bucket}/scratch`), scratch));
  const lake = await localLake(scratch);
  await pushLake(lake, await environment.storage(environment.settings.lake));
  const trained: Record<string, Summary['trained'][string]> = {};
  await trainBoth(await environment.trainingBackend(), lake, trained, true);
  // a bare Glue client reaches the emulated Data Catalog through AWS_ENDPOINT_URL_GLUE
  const { GlueClient, GetTableCommand } = await import('@aws-sdk/client-glue');
  const glueAnswer = await new GlueClient({}).send(new GetTableCommand({ DatabaseName: 'retail_mlops', Name: 'gold' })).then(
    () => 'found',
    (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`,
  );
  return { objectRoundTrip, glueAnswer, trained };
}

async function azure(scratch: string): Promise<Summary> {
  const environment = await openFromVariables(scratch);
  const lakeStorage = await environment.storage(environment.settings.lake);
  const objectRoundTrip = await roundTrip(lakeStorage, scratch);
  await lakeStorage.delete(['round-trip/payload.bin']);
  const lake = await localLake(scratch);
  await pushLake(lake, lakeStorage);
  const trained: Record<string, Summary['trained'][string]> = {};
  await trainBoth(await environment.trainingBackend(), lake, trained, false);
  return { objectRoundTrip, trained };
}

async function main(): Promise<void> {
  const [cloud, scratch] = process.argv.slice(2);
  const summary = cloud === 'aws' ? await aws(scratch) : await azure(scratch);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ objectRoundTrip: false, trained: {}, failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })}\n`);
  process.exitCode = 1;
});
