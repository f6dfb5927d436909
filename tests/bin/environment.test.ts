/**
 * The provider seam as a user meets it through the CLI: wrong settings are a usage error (exit 2)
 * listing every problem before anything talks to a cloud; a local run never loads a cloud SDK;
 * ingest takes the environment's landing area and refuses data that is too dirty, publishing nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { REPO_ROOT, SAMPLE_FILES, temporaryDirectory } from '../helpers/paths';

const scratch = temporaryDirectory('cli-environment-');
afterAll(() => scratch.remove());

/** Runs the CLI with the module recorder preloaded; returns the cloud SDK modules it loaded. */
async function cloudModulesLoaded(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; modules: string[]; stderr: string }> {
  const log = path.join(scratch.path, `modules-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const result = await cli(args, { env: { ...env, RETAIL_MLOPS_TEST_MODULE_LOG: log, NODE_OPTIONS: `--import ${path.join(REPO_ROOT, 'tests/helpers/module-recorder.mjs')}` } });
  return { code: result.code, stderr: result.stderr, modules: [...new Set(readFileSync(log, 'utf8').split('\n').filter((line) => line.length > 0))] };
}

describe('settings problems are usage errors, listed together', () => {
  it('an unknown provider, and a location of another provider', async () => {
    const unknown = await cli(['train', '--provider', 'gcp', '--algorithm', 'lr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("provider 'gcp' (flag --provider) is not one of local, aws, azure");
    const wrong = await cli(['ingest', SAMPLE_FILES[0], '--lake', 's3://retail-mlops-lake/lake'], { env: { RETAIL_MLOPS_PROVIDER: 'local' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("lake 's3://retail-mlops-lake/lake' (flag --lake) is an S3 location, but the provider is local (RETAIL_MLOPS_PROVIDER): use a directory or file:///…");
  });

  it('missing cloud options, all at once, before any request', async () => {
    const missing = await cli(['models', 'alias', 'production', '#1', '--reason', 'test', '--registry', 's3://retail-mlops-lake/registry'], { env: { AWS_REGION: '', AWS_DEFAULT_REGION: '', RETAIL_MLOPS_AWS_REGION: '' } });
    expect(missing.code).toBe(2);
    // the provider follows from the s3:// location; moving an alias mirrors into SageMaker, so it needs the image too
    expect(missing.stderr).toMatch(/aws\.region is required.*aws\.image \(RETAIL_MLOPS_AWS_IMAGE\) is required/);
    expect(missing.stderr).not.toContain('lake is required'); // the registry alone needs no lake
    const reading = await cli(['models', 'list', '--registry', 's3://retail-mlops-lake/registry'], { env: { AWS_REGION: '', AWS_DEFAULT_REGION: '', RETAIL_MLOPS_AWS_REGION: '' } });
    expect(reading.stderr).not.toContain('aws.image'); // reading mirrors nothing
    const training = await cli(['train', '--provider', 'aws', '--registry', 's3://retail-mlops-lake/registry'], { env: { AWS_REGION: 'eu-west-1' } });
    expect(training.code).toBe(2);
    expect(training.stderr).toMatch(/lake is required for provider aws.*aws\.image.*aws\.roleArn \(RETAIL_MLOPS_AWS_ROLE_ARN\) is required to train on SageMaker/);
  });

  it('`config` shows the environment and where each value came from', async () => {
    const shown = await cli(['config', '--json', '--lake', path.join(scratch.path, 'lake')], { env: { RETAIL_MLOPS_REGISTRY: path.join(scratch.path, 'registry') } });
    expect(shown.code).toBe(0);
    const summary = JSON.parse(shown.stdout) as { environment: string; settings: Record<string, unknown>; origins: Record<string, string> };
    expect(summary.environment).toBe('local');
    expect(summary.settings).toMatchObject({ provider: 'local', lake: path.join(scratch.path, 'lake'), registry: path.join(scratch.path, 'registry'), backend: 'in-process' });
    expect(summary.origins).toMatchObject({ lake: 'flag --lake', registry: 'RETAIL_MLOPS_REGISTRY', provider: 'default' });
  });
});

describe('a local run loads no cloud SDK', () => {
  it('ingest, train and models list on the local default; an aws command loads the SDK (the recorder works)', async () => {
    const lake = path.join(scratch.path, 'local-lake');
    const registry = path.join(scratch.path, 'local-registry');
    const ingest = await cloudModulesLoaded(['ingest', ...SAMPLE_FILES.slice(0, 2), '--lake', lake, '--quiet']);
    expect(ingest.code).toBe(0);
    const train = await cloudModulesLoaded(['train', '--lake', lake, '--registry', registry, '--algorithm', 'lr', '--quiet']);
    expect(train.code).toBe(0);
    const list = await cloudModulesLoaded(['models', 'list', '--registry', registry, '--quiet']);
    expect(list.code).toBe(0);
    expect([...ingest.modules, ...train.modules, ...list.modules]).toEqual([]);

    const aws = await cloudModulesLoaded(['models', 'list', '--registry', 's3://retail-mlops-lake/registry'], {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_SAGEMAKER: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'unused',
      AWS_SECRET_ACCESS_KEY: 'unused',
      AWS_MAX_ATTEMPTS: '1',
    });
    expect(aws.code).toBe(1); // nothing listens on port 9
    expect(aws.modules.some((module) => module.startsWith('@aws-sdk/'))).toBe(true);
  });
});

describe('ingest from the landing area, with a quarantine threshold', () => {
  it('takes the landing location when no input is named, refuses data above the threshold without publishing, and accepts it when allowed', async () => {
    const lake = path.join(scratch.path, 'landing-lake');
    const landing = path.join(scratch.path, 'landing');
    const generated = await cli(['generate', '--rows', '4000', '--seed', '9', '--faults', '0.03', '--weeks', '2', '--out', landing, '--quiet']);
    expect(generated.code).toBe(0);
    const refused = await cli(['ingest', '--lake', lake, '--landing', landing, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/DATA_QUALITY: \d+ of \d+ rows \([\d.]+%\) were quarantined, above the allowed 1\.00%: \w+ \d+.*; nothing was published/);
    expect(existsSync(path.join(lake, '_lake.json'))).toBe(false);
    const accepted = await cli(['ingest', '--lake', lake, '--json'], { env: { RETAIL_MLOPS_LANDING: landing, RETAIL_MLOPS_MAX_QUARANTINE_RATE: '0.1' } });
    expect(accepted.code).toBe(0);
    const summary = JSON.parse(accepted.stdout) as { lakeVersion: number; rowsRead: number; rowsAccepted: number; rowsQuarantined: number };
    expect(summary.lakeVersion).toBe(1);
    expect(summary.rowsQuarantined).toBeGreaterThan(0);
    expect(summary.rowsAccepted + summary.rowsQuarantined).toBe(summary.rowsRead);
  });
});
