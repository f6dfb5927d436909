/**
 * A team repository's pipeline stages, run by the local runner exactly as its CI files say (options from
 * its `.retail-mlops.json`, rendered by RetailMlopsProject), against the real CLI: data comes from the
 * environment's landing location, "Validate and ingest data" fails above the quarantine threshold with the
 * reasons and publishes nothing, and clean data goes through to a registered candidate.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from './ci-files';
import { createPipelineModel, shellQuote } from '../../pipelines/model';
import { readProjectPipelineOptions } from '../../pipelines/project-pipeline';
import { RetailMlopsProject } from '../../pipelines/project-type';
import { runPipeline } from '../../pipelines/runner';
import { cli } from '../helpers/cli';

const directory = mkdtempSync(path.join(tmpdir(), 'retail-mlops-team-pipeline-'));

function synthesizeLocalTeam(): void {
  const previous = process.env.PROJEN_DISABLE_POST;
  process.env.PROJEN_DISABLE_POST = 'true';
  try {
    new RetailMlopsProject({ name: 'acme-local', defaultReleaseBranch: 'main', outdir: directory }).synth();
  } finally {
    if (previous === undefined) delete process.env.PROJEN_DISABLE_POST;
    else process.env.PROJEN_DISABLE_POST = previous;
  }
}

/** The team's pipeline, calling this repository's CLI where the CI files call the installed `npx retail-mlops`. */
function teamPipeline() {
  const options = readProjectPipelineOptions(directory);
  expect(options.cli).toBe('npx retail-mlops');
  const cliFromSource = [path.join(repositoryRoot, 'node_modules/.bin/tsx'), path.join(repositoryRoot, 'bin/retail-mlops.ts')].map(shellQuote).join(' ');
  return createPipelineModel({ ...options, cli: cliFromSource });
}

describe("a team repository's pipeline on the local environment", () => {
  synthesizeLocalTeam();
  const landing = path.join(directory, '.retail-mlops/lake/landing');
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('fails "Validate and ingest data" above the quarantine threshold, naming the reasons; nothing is published', async () => {
    expect((await cli(['generate', '--rows', '20000', '--faults', '0.05', '--out', path.join(landing, 'dirty.csv'), '--quiet'])).code).toBe(0);
    let stderr = '';
    const summary = await runPipeline(teamPipeline(), {
      cwd: directory,
      branch: 'main',
      stages: ['ingest'],
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: (chunk: string | Buffer) => ((stderr += chunk.toString()), true) } as unknown as NodeJS.WritableStream,
    });
    expect(summary.status).toBe('failed');
    expect(summary.stages[0].failedCommand).toMatch(/ingest --environment local --lake \.retail-mlops\/lake --max-quarantine-rate 0\.01$/);
    expect(stderr).toMatch(/DATA_QUALITY: \d+ of 20000 rows \([\d.]+%\) were quarantined, above the allowed 1\.00%: .*negative_spend \d+.*nothing was published/);
    expect(existsSync(path.join(directory, '.retail-mlops/lake/_lake.json'))).toBe(false);
    rmSync(landing, { recursive: true, force: true });
  }, 120_000);

  it('takes clean landing data through training, evaluation and the gate to a registered candidate', async () => {
    expect((await cli(['generate', '--rows', '40000', '--out', path.join(landing, 'weeks.csv'), '--quiet'])).code).toBe(0);
    const summary = await runPipeline(teamPipeline(), {
      cwd: directory,
      branch: 'main',
      stages: ['ingest', 'train', 'evaluate', 'gate', 'register'],
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    expect(summary.stages.map((stage) => [stage.id, stage.status])).toEqual([
      ['ingest', 'passed'], ['train', 'passed'], ['evaluate', 'passed'], ['gate', 'passed'], ['register', 'passed'],
    ]);
    const models = await cli(['models', 'list', '--registry', path.join(directory, '.retail-mlops/registry'), '--json']);
    expect(models.stdout).toContain('"candidate"');
  }, 600_000);
});
