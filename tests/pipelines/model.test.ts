import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../core/errors';
import { approvalStages, createPipelineModel, standardStageIds, stageRunsOnBranch } from '../../pipelines/model';

describe('createPipelineModel', () => {
  it('describes the standard stages in order, one promote stage per environment', () => {
    const model = createPipelineModel();
    expect(model.stages.map((stage) => stage.id)).toEqual([...standardStageIds, 'promote-staging', 'promote-production']);
    expect(model.stages.map((stage) => stage.name)).toEqual([
      'Install', 'Lint and test', 'Validate and ingest data', 'Train', 'Evaluate', 'Gate', 'Register', 'Build image', 'Synth manifests',
      'Promote to staging', 'Promote to production',
    ]);
  });

  it('calls the project CLI with the lake, the registry and the candidate model', () => {
    const stages = Object.fromEntries(createPipelineModel({ dataFiles: ['raw/a.csv', 'raw/b.csv.gz'] }).stages.map((stage) => [stage.id, stage]));
    expect(stages.ingest.commands).toEqual(['npx retail-mlops ingest raw/a.csv raw/b.csv.gz --lake .lake']);
    expect(stages.train.commands).toEqual(['npx retail-mlops train --lake .lake --registry .registry --algorithm all --alias challenger']);
    expect(stages.evaluate.commands[1]).toMatch(/^npx retail-mlops evaluate --registry .registry --model challenger --data .lake --report out\/evaluation\/report.html/);
    expect(stages['synth-manifests'].commands).toEqual(['npm run synth:manifests']);
    expect(stages['promote-production'].commands).toEqual(['npx retail-mlops promote --model candidate --env production']);
  });

  it("a team's data stages read the environment's landing location and fail above the quarantine threshold", () => {
    const model = createPipelineModel({ environment: 'dev', maxQuarantineRate: 0.02, lake: 's3://acme-dev/lake', registry: 's3://acme-dev/registry', provider: 'aws', awsRoleArn: 'arn:aws:iam::123456789012:role/ci' });
    const stages = Object.fromEntries(model.stages.map((stage) => [stage.id, stage]));
    // no input files: ingest reads the landing location of the environment's settings; never this repository's layout
    expect(stages.ingest.name).toBe('Validate and ingest data');
    expect(stages.ingest.commands).toEqual(['npx retail-mlops ingest --environment dev --lake s3://acme-dev/lake --max-quarantine-rate 0.02']);
    for (const id of ['train', 'evaluate', 'gate', 'register']) expect(stages[id].commands.at(-1)).toContain(' --environment dev ');
    expect(model.stages.flatMap((stage) => stage.commands).join('\n')).not.toMatch(/\.\.\/shared|npm run cli|vitest/);
  });

  it('the data stage runs its set-up commands in its own job, before it ingests the landing location', () => {
    const landing = ['rm -rf .lake/landing', 'npx retail-mlops generate --rows 1000 --seed 1 --out .lake/landing'];
    const stages = Object.fromEntries(createPipelineModel({ dataSetup: landing }).stages.map((stage) => [stage.id, stage]));
    expect(stages.ingest.commands).toEqual([...landing, 'npx retail-mlops ingest --lake .lake']);
    expect(stages['lint-test'].commands).toEqual(['npm test']);
    expect(() => createPipelineModel({ dataSetup: ['generate\ningest'] })).toThrow(/dataSetup commands must be one non-empty line each/);
  });

  it('the test stage runs the set-up script before npm test; algorithms narrow the train stage', () => {
    const stages = Object.fromEntries(createPipelineModel({ testSetup: ['bin/setup'], algorithms: ['lr', 'gbdt'] }).stages.map((stage) => [stage.id, stage]));
    expect(stages['lint-test'].commands).toEqual(['bin/setup', 'npm test']);
    expect(stages.train.commands[0]).toContain('--algorithm lr,gbdt ');
    let caught: unknown;
    try {
      createPipelineModel({ maxQuarantineRate: 1.5, environment: 'Dev', algorithms: [] });
    } catch (error) {
      caught = error;
    }
    const problems = (caught as InvalidOptionsError).problems.join('\n');
    for (const expected of ['maxQuarantineRate', "environment 'Dev'", 'algorithms']) expect(problems).toContain(expected);
  });

  it('registers and promotes only on the main branch; production waits for an approval', () => {
    const model = createPipelineModel({ mainBranch: 'trunk', approvalGroup: 'ml-leads' });
    const byId = Object.fromEntries(model.stages.map((stage) => [stage.id, stage]));
    for (const id of ['register', 'build-image', 'promote-staging', 'promote-production']) expect(byId[id].condition.branches).toEqual(['trunk']);
    for (const id of ['install', 'lint-test', 'train', 'gate']) expect(byId[id].condition.branches).toEqual([]);
    expect(approvalStages(model).map((stage) => stage.id)).toEqual(['promote-production']);
    expect(byId['promote-production'].condition.approval).toMatchObject({ environment: 'production', group: 'ml-leads' });
    expect(stageRunsOnBranch(byId.register, 'trunk')).toBe(true);
    expect(stageRunsOnBranch(byId.register, 'feature/x')).toBe(false);
    expect(stageRunsOnBranch(byId.register, undefined)).toBe(false);
  });

  it('declares caches and artifacts: npm everywhere, lake and registry folders, report, metrics, model', () => {
    const byId = Object.fromEntries(createPipelineModel().stages.map((stage) => [stage.id, stage]));
    expect(byId.train.caches.map((cache) => cache.name)).toEqual(['npm', 'lake', 'registry']);
    expect(byId.gate.caches.map((cache) => cache.name)).toEqual(['npm', 'registry', 'evaluation']);
    expect(byId.evaluate.artifacts.map((artifact) => [artifact.kind, artifact.path])).toEqual([
      ['report', 'out/evaluation/report.html'],
      ['metrics', 'out/evaluation/metrics.json'],
    ]);
    expect(byId.register.artifacts).toEqual([{ name: 'model', path: '.registry', isFolder: true, kind: 'model' }]);
  });

  it('local needs no credentials; aws and azure stages that touch the cloud carry the identity from the options', () => {
    expect(createPipelineModel().stages.every((stage) => stage.credentials.cloud === 'none')).toBe(true);
    const aws = createPipelineModel({ provider: 'aws', awsRoleArn: 'arn:aws:iam::123456789012:role/ci', lake: 's3://bucket/lake', registry: 's3://bucket/registry' });
    const cloudStages = aws.stages.filter((stage) => stage.credentials.cloud === 'aws').map((stage) => stage.id);
    expect(cloudStages).toEqual(['ingest', 'train', 'evaluate', 'gate', 'register', 'build-image', 'promote-staging', 'promote-production']);
    expect(aws.stages.find((stage) => stage.id === 'train')?.credentials).toMatchObject({ roleArn: 'arn:aws:iam::123456789012:role/ci', region: 'eu-west-1' });
    // cloud storage is not handed between stages as folders
    expect(aws.stages.find((stage) => stage.id === 'train')?.caches.map((cache) => cache.name)).toEqual(['npm']);
    const azure = createPipelineModel({
      provider: 'azure',
      azureServiceConnection: 'ml-wif',
      azureTenantId: '11111111-2222-3333-4444-555555555555',
      azureClientId: '66666666-7777-8888-9999-000000000000',
      azureSubscriptionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    });
    expect(azure.stages.find((stage) => stage.id === 'ingest')?.credentials).toMatchObject({ cloud: 'azure', serviceConnection: 'ml-wif' });
  });

  it('reports every problem in the options at once', () => {
    let caught: unknown;
    try {
      createPipelineModel({
        provider: 'aws',
        awsRegion: 'moon-1',
        environments: ['staging', 'staging', 'Prod'],
        approvalEnvironment: 'qa',
        timeoutMinutes: 0,
        nodeVersion: 'lts',
        additionalStages: [{ id: 'Bad Id', name: 'Extra', commands: [], after: 'nowhere' }],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    const problems = (caught as InvalidOptionsError).problems.join('\n');
    for (const expected of ['awsRoleArn', 'awsRegion', 'environments must be unique', "environment 'Prod'", "approvalEnvironment 'qa'", 'timeoutMinutes', 'nodeVersion', "'Bad Id'", 'at least one command', "'nowhere'"]) {
      expect(problems).toContain(expected);
    }
  });

  it('rejects a stage that collides with a standard one, and azure without its identity', () => {
    expect(() => createPipelineModel({ additionalStages: [{ id: 'train', name: 'Train again', commands: ['true'] }] })).toThrow(/stage id 'train' is used twice/);
    expect(() => createPipelineModel({ additionalStages: [{ id: 'other', name: 'gate', commands: ['true'] }] })).toThrow(/stage name 'gate' is used twice/);
    expect(() => createPipelineModel({ provider: 'azure' })).toThrow(/azureTenantId.*azureClientId.*azureSubscriptionId/s);
  });
});
