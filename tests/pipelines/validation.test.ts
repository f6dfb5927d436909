/**
 * Each CI file checked by the best offline judge there is: npm-groovy-lint (CodeNarc's Groovy parser)
 * for the Jenkinsfile, Microsoft's pipeline schema for azure-pipelines.yml, our own schema and
 * semantic checks for .travis.yml. The committed files and cloud variants are all checked.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { azurePipelineValidator, groovyLint, javaAvailable } from './ci-file-checks';
import type { RenderedCiFiles } from './ci-files';
import { renderCiFiles, repositoryRoot } from './ci-files';
import { JenkinsfileSyntaxError, parseJenkinsfile } from './jenkinsfile-parser';
import { checkTravisCondition, travisSchemaProblems, travisSemanticProblems } from './travis-checks';
import { createPipelineModel } from '../../pipelines/model';
import type { PipelineOptions } from '../../pipelines/model';

const variants: Record<string, PipelineOptions> = {
  aws: {
    provider: 'aws',
    awsRoleArn: 'arn:aws:iam::123456789012:role/retail-mlops-ci',
    imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/retail-mlops',
    environments: ['dev', 'staging', 'production'],
    jenkinsAgentLabel: 'linux',
    jenkinsNodeJsInstallation: 'node-20',
  },
  azure: {
    provider: 'azure',
    azureTenantId: '11111111-2222-3333-4444-555555555555',
    azureClientId: '66666666-7777-8888-9999-000000000000',
    azureSubscriptionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    imageRepository: 'retailmlops.azurecr.io/retail-mlops',
    additionalStages: [{ id: 'smoke-test', name: "Smoke test (it's quick)", commands: ['echo "ok" && test -n "$HOME"'], after: 'promote-staging', branches: ['main', 'release/1.x'] }],
  },
};

function committedFiles(): RenderedCiFiles {
  return {
    jenkinsfile: readFileSync(path.join(repositoryRoot, 'Jenkinsfile'), 'utf8'),
    travis: readFileSync(path.join(repositoryRoot, '.travis.yml'), 'utf8'),
    azure: readFileSync(path.join(repositoryRoot, 'azure-pipelines.yml'), 'utf8'),
  };
}

const allFiles: Record<string, RenderedCiFiles> = {
  committed: committedFiles(),
  ...Object.fromEntries(Object.entries(variants).map(([name, options]) => [name, renderCiFiles(createPipelineModel(options))])),
};

describe('Jenkinsfile', () => {
  const hasJava = javaAvailable();
  let workDirectory = '';
  beforeAll(() => {
    workDirectory = mkdtempSync(path.join(tmpdir(), 'retail-mlops-groovy-lint-'));
  });
  afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

  if (!hasJava) {
    it.skip('npm-groovy-lint needs Java, and `java` is not on PATH: run bin/setup (installs default-jre-headless)', () => undefined);
  } else {
    it('passes `npm-groovy-lint --failon error --noserver` (committed file and cloud variants)', async () => {
      const files = Object.entries(allFiles).map(([name, rendered]) => {
        mkdirSync(path.join(workDirectory, name));
        const file = path.join(workDirectory, name, 'Jenkinsfile');
        writeFileSync(file, rendered.jenkinsfile);
        return file;
      });
      const result = await groovyLint(files, workDirectory);
      expect(result.errors).toEqual([]);
      expect(result.filesLinted).toBe(files.length);
      expect(result.exitCode).toBe(0);
    });
  }

  it('is read by the stage parser, which rejects malformed text', () => {
    for (const rendered of Object.values(allFiles)) expect(parseJenkinsfile(rendered.jenkinsfile).stages.length).toBeGreaterThan(10);
    const smoke = parseJenkinsfile(allFiles.azure.jenkinsfile).stages.find((stage) => stage.name === "Smoke test (it's quick)");
    expect(smoke?.commands).toEqual(['echo "ok" && test -n "$HOME"']);
    expect(smoke?.branches).toEqual(['main', 'release/1.x']);
    expect(() => parseJenkinsfile("pipeline { stages { stage('A') { steps { sh 'x' } } }")).toThrow(JenkinsfileSyntaxError);
    expect(() => parseJenkinsfile("pipeline { stages { stage('A) { } } }")).toThrow(JenkinsfileSyntaxError);
  });
});

describe('azure-pipelines.yml', () => {
  const validate = azurePipelineValidator();

  it.each(Object.keys(allFiles))('%s: validates against Microsoft\'s pipeline schema', (name) => {
    const valid = validate(parse(allFiles[name].azure));
    expect(valid ? [] : validate.errors?.slice(0, 5)).toEqual([]);
  });

  it('the schema catches a mistake', () => {
    const definition = parse(allFiles.committed.azure) as { stages: { jobs: Record<string, unknown>[] }[] };
    definition.stages[0].jobs[0].stepz = [];
    expect(validate(definition)).toBe(false);
  });
});

describe('.travis.yml', () => {
  it.each(Object.keys(allFiles))('%s: satisfies our schema of the keys used and the semantic checks', (name) => {
    const configuration = parse(allFiles[name].travis) as Parameters<typeof travisSemanticProblems>[0];
    expect(travisSchemaProblems(configuration)).toEqual([]);
    expect(travisSemanticProblems(configuration)).toEqual([]);
  });

  it('the checks catch an unknown key, stages out of order and a malformed condition', () => {
    type Job = { stage: string; if?: string; scirpt?: string };
    const configuration = parse(allFiles.committed.travis) as { stages: { name: string }[]; jobs: { include: Job[] } };
    configuration.jobs.include[0].scirpt = 'npm ci';
    expect(travisSchemaProblems(configuration).join('\n')).toMatch(/additionalProperty.*scirpt/);
    configuration.stages.reverse();
    configuration.jobs.include[1].if = 'branch == ';
    const problems = travisSemanticProblems(configuration).join('\n');
    expect(problems).toMatch(/comes after a later stage/);
    expect(problems).toMatch(/expected a value/);
  });

  it('condition syntax: accepts the forms Travis documents, rejects the rest', () => {
    for (const condition of ['branch = main', 'branch = main AND type = api', 'branch IN (main, release/1.x)', 'NOT type = pull_request', 'tag IS present', '(branch = main OR tag =~ /^v\\d+/) AND type != cron', 'env(FOO) = bar']) {
      expect(() => checkTravisCondition(condition), condition).not.toThrow();
    }
    for (const condition of ['branch main', 'type = deploy', 'branch IN main', 'colour = red', 'branch = main AND', 'tag IS here']) {
      expect(() => checkTravisCondition(condition), condition).toThrow();
    }
  });
});
