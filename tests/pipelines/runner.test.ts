import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../core/errors';
import type { PipelineModel, PipelineStage } from '../../pipelines/model';
import type { PipelineProgressEvent } from '../../pipelines/runner';
import { runPipeline, selectStages } from '../../pipelines/runner';

function stage(id: string, commands: string[], overrides: Partial<PipelineStage> = {}): PipelineStage {
  return {
    id,
    name: id.charAt(0).toUpperCase() + id.slice(1).replace(/-/g, ' '),
    commands,
    condition: { branches: [] },
    caches: [],
    artifacts: [],
    credentials: { cloud: 'none' },
    environment: {},
    requiredTools: [],
    needsDependencies: true,
    ...overrides,
  };
}

function model(stages: PipelineStage[]): PipelineModel {
  return {
    name: 'test',
    provider: 'local',
    mainBranch: 'main',
    nodeVersion: '20',
    timeoutMinutes: 5,
    agentSetup: [],
    environment: { PIPELINE_NAME: 'test' },
    jenkins: {},
    stages,
  };
}

describe('runPipeline', () => {
  let workDirectory = '';
  const output = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  beforeEach(() => {
    workDirectory = mkdtempSync(path.join(tmpdir(), 'retail-mlops-runner-'));
  });
  afterEach(() => rmSync(workDirectory, { recursive: true, force: true }));

  it('runs every stage\'s commands in order, in cwd, with the pipeline\'s and the stage\'s variables', async () => {
    const stdout = output();
    const events: PipelineProgressEvent[] = [];
    const summary = await runPipeline(
      model([
        stage('first', ['echo one > log.txt', 'echo "$PIPELINE_NAME" >> log.txt']),
        stage('second', ['echo "$STAGE_VALUE" >> log.txt', 'echo to-stdout'], { environment: { STAGE_VALUE: 'two' } }),
      ]),
      { cwd: workDirectory, stdout: stdout.stream, stderr: output().stream, onProgress: (event) => events.push(event) },
    );
    expect(summary.status).toBe('passed');
    expect(summary.stages.map((result) => [result.id, result.status, result.exitCode])).toEqual([['first', 'passed', 0], ['second', 'passed', 0]]);
    expect(readFileSync(path.join(workDirectory, 'log.txt'), 'utf8')).toBe('one\ntest\ntwo\n');
    expect(stdout.text()).toBe('to-stdout\n');
    expect(events.map((event) => `${event.kind} ${event.index}/${event.total}`)).toEqual([
      'stage-start 1/2', 'command 1/2', 'command 1/2', 'stage-end 1/2', 'stage-start 2/2', 'command 2/2', 'command 2/2', 'stage-end 2/2',
    ]);
    expect(summary.stages.every((result) => result.seconds >= 0)).toBe(true);
  });

  it('stops at the first failing command: the rest of the stage and the later stages do not run', async () => {
    const summary = await runPipeline(
      model([stage('good', ['true']), stage('bad', ['touch before', 'exit 3', 'touch after']), stage('later', ['touch later'])]),
      { cwd: workDirectory, stdout: output().stream, stderr: output().stream },
    );
    expect(summary.status).toBe('failed');
    expect(summary.stages[1]).toMatchObject({ id: 'bad', status: 'failed', exitCode: 3, failedCommand: 'exit 3' });
    expect(summary.stages[2]).toMatchObject({ id: 'later', status: 'not-run', reason: 'an earlier stage failed' });
    expect(() => readFileSync(path.join(workDirectory, 'after'))).toThrow();
    expect(() => readFileSync(path.join(workDirectory, 'later'))).toThrow();
    readFileSync(path.join(workDirectory, 'before'));
  });

  it('skips, with the reason, stages needing cloud credentials, an approval, another branch or a missing tool', async () => {
    const summary = await runPipeline(
      model([
        stage('cloud', ['touch cloud'], { credentials: { cloud: 'aws', roleArn: 'arn:aws:iam::123456789012:role/ci', region: 'eu-west-1', jenkinsTokenCredentialId: 'token', serviceConnection: 'wif' } }),
        stage('approval', ['touch approval'], { condition: { branches: ['main'], approval: { environment: 'production', group: 'approvers', message: 'ok?' } } }),
        stage('main-only', ['touch main-only'], { condition: { branches: ['main'] } }),
        stage('tool', ['touch tool'], { requiredTools: ['no-such-tool-retail-mlops'] }),
        stage('plain', ['touch plain']),
      ]),
      { cwd: workDirectory, branch: 'feature/x', stdout: output().stream, stderr: output().stream },
    );
    expect(summary.status).toBe('passed');
    expect(summary.branch).toBe('feature/x');
    expect(summary.stages.map((result) => [result.id, result.status, result.reason])).toEqual([
      ['cloud', 'skipped', 'needs aws credentials (OIDC role arn:aws:iam::123456789012:role/ci); runs in CI only'],
      ['approval', 'skipped', "needs a manual approval by 'approvers' (production); runs in CI only"],
      ['main-only', 'skipped', 'runs only on branch main (current: feature/x)'],
      ['tool', 'skipped', 'needs no-such-tool-retail-mlops on PATH'],
      ['plain', 'passed', undefined],
    ]);
    readFileSync(path.join(workDirectory, 'plain'));
    expect(() => readFileSync(path.join(workDirectory, 'cloud'))).toThrow();
  });

  it('runs a main-only stage on main', async () => {
    const summary = await runPipeline(model([stage('main-only', ['true'], { condition: { branches: ['main'] } })]), { cwd: workDirectory, branch: 'main' });
    expect(summary.stages[0].status).toBe('passed');
  });

  it('--stage: runs only the selected stages (by id or name), in pipeline order', async () => {
    const pipeline = model([stage('one', ['echo 1 >> log']), stage('two', ['echo 2 >> log']), stage('three', ['echo 3 >> log'])]);
    const summary = await runPipeline(pipeline, { cwd: workDirectory, stages: ['three', 'One'], stdout: output().stream });
    expect(summary.stages.map((result) => result.id)).toEqual(['one', 'three']);
    expect(readFileSync(path.join(workDirectory, 'log'), 'utf8')).toBe('1\n3\n');
  });

  it('rejects unknown stage names, listing them all and the known ones', () => {
    const pipeline = model([stage('one', ['true'])]);
    expect(() => selectStages(pipeline, ['one', 'uno', 'eins'])).toThrow(InvalidOptionsError);
    expect(() => selectStages(pipeline, ['uno', 'eins'])).toThrow(/no stage 'uno'.*no stage 'eins' \(stages: one\)/);
  });
});
