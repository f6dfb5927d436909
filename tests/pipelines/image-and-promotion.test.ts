/**
 * The delivery end of the pipeline: build-image builds the API image once per commit, pushes it to the
 * cloud's registry and writes its digest; the promote stages pin that digest and push a pull request
 * with a git host token bound the CI system's way. All three rendered files say the same; the build
 * commands run for real against a stand-in `docker` on PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { azureStages, jenkinsStages, renderCiFiles, travisStages } from './ci-files';
import { createPipelineModel, IMAGE_DIGEST_FILE, type PipelineOptions } from '../../pipelines/model';
import { localSkipReason } from '../../pipelines/runner';
import { temporaryDirectory } from '../helpers/paths';

const awsOptions: PipelineOptions = {
  provider: 'aws',
  awsRoleArn: 'arn:aws:iam::123456789012:role/retail-mlops-ci',
  imageRepository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/retail-mlops-staging/api',
  lake: 's3://retail-mlops-lake/lake',
  registry: 's3://retail-mlops-lake/registry',
};
const azureOptions: PipelineOptions = {
  provider: 'azure',
  azureTenantId: '11111111-2222-3333-4444-555555555555',
  azureClientId: '66666666-7777-8888-9999-000000000000',
  azureSubscriptionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  imageRepository: 'crretailmlopsdev.azurecr.io/retail-mlops',
  lake: 'https://stretailmlopsdev.blob.core.windows.net/lake',
  registry: 'https://stretailmlopsdev.blob.core.windows.net/registry',
};

describe.each([
  ['aws', awsOptions, 'aws ecr get-login-password', 'GITHUB_TOKEN'],
  ['azure', azureOptions, 'az acr login --name crretailmlopsdev', 'SYSTEM_ACCESSTOKEN'],
] as const)('%s: the rendered CI files', (_cloud, options, login, tokenVariable) => {
  const model = createPipelineModel(options);
  const files = renderCiFiles(model);

  it('build the image once per commit, push it to the cloud registry and write its digest, in all three systems', () => {
    for (const stages of [jenkinsStages(files.jenkinsfile), travisStages(files.travis), azureStages(files.azure)]) {
      const build = stages.find((stage) => stage.name === 'Build image')!;
      expect(build.commands[0]).toContain(login);
      expect(build.commands[1]).toMatch(/if docker manifest inspect "\$tag" .*then docker pull --quiet "\$tag"; else docker build --tag "\$tag" \. && docker push "\$tag"; fi/);
      expect(build.commands[1]).toContain(`tag="${options.imageRepository}:$(git rev-parse --short=12 HEAD)"`);
      expect(build.commands[2]).toContain(`> ${IMAGE_DIGEST_FILE}`);
      expect(build.branches).toEqual(['main']);
    }
  });

  it('pin the pushed digest in every promotion, which pushes a pull request', () => {
    for (const stages of [jenkinsStages(files.jenkinsfile), travisStages(files.travis), azureStages(files.azure)]) {
      for (const environment of ['staging', 'production']) {
        const promote = stages.find((stage) => stage.name === `Promote to ${environment}`)!;
        expect(promote.commands).toEqual([`npx retail-mlops promote --model candidate --env ${environment} --image-digest "$(cat ${IMAGE_DIGEST_FILE})"`]);
      }
    }
    // the digest travels from build-image to the promote stages (fresh machines: a cache of out/image)
    const byId = Object.fromEntries(model.stages.map((stage) => [stage.id, stage]));
    for (const id of ['build-image', 'promote-staging', 'promote-production']) expect(byId[id].caches.map((cache) => cache.path)).toContain('out/image');
    expect(byId['build-image'].artifacts.map((artifact) => artifact.path)).toEqual([IMAGE_DIGEST_FILE]);
  });

  it('bind the git host token to the promote steps only, never writing it into the file', () => {
    // Jenkins: a secret-text credential around the promote steps
    const jenkinsPromotions = files.jenkinsfile.split("stage('Promote to ").slice(1);
    expect(jenkinsPromotions).toHaveLength(2);
    for (const text of jenkinsPromotions) {
      expect(text).toContain(`withCredentials([string(credentialsId: 'retail-mlops-git-token', variable: '${tokenVariable}')])`);
    }
    expect(files.jenkinsfile.split(`variable: '${tokenVariable}'`)).toHaveLength(3);
    // Azure Pipelines: mapped into the promote steps' env
    type Step = { env?: Record<string, string> };
    const azure = parse(files.azure) as { stages: { stage: string; jobs: { steps?: Step[]; strategy?: { runOnce: { deploy: { steps: Step[] } } } }[] }[] };
    for (const stage of azure.stages) {
      const job = stage.jobs[0];
      const steps = job.steps ?? job.strategy?.runOnce.deploy.steps ?? [];
      const mapped = steps.filter((step) => step.env?.[tokenVariable] !== undefined);
      expect(mapped.length, stage.stage).toBe(stage.stage.startsWith('promote_') ? 1 : 0);
      for (const step of mapped) expect(step.env?.[tokenVariable]).toBe(tokenVariable === 'SYSTEM_ACCESSTOKEN' ? '$(System.AccessToken)' : '$(GITHUB_TOKEN)');
    }
    // Travis: a repository setting, named in the notes
    expect(files.travis).toMatch(new RegExp(`# ${tokenVariable}: define it in the repository settings`));
  });
});

describe('the local runner', () => {
  it('skips a promotion when the git host token is not in the environment, saying which', () => {
    const promote = createPipelineModel().stages.find((stage) => stage.id === 'promote-staging')!;
    expect(localSkipReason(promote, 'main', process.env.PATH, {})).toMatch(/^needs GITHUB_TOKEN in the environment \(push promote\/<environment>/);
    expect(localSkipReason(promote, 'main', process.env.PATH, { GITHUB_TOKEN: 'x' })).toBeUndefined();
  });
});

describe('the build-image commands, run against a stand-in docker', () => {
  const scratch = temporaryDirectory();
  afterAll(() => scratch.remove());
  const build = createPipelineModel(awsOptions).stages.find((stage) => stage.id === 'build-image')!;
  const digest = `sha256:${'7e'.repeat(32)}`;

  /** A `docker` that logs its arguments, knows which tags the registry has, and answers inspect like docker does after a push. */
  function standInDocker(directory: string): string {
    const bin = path.join(directory, 'bin');
    mkdirSync(bin, { recursive: true });
    const script = [
      '#!/bin/sh',
      `echo "$*" >> "${directory}/docker.log"`,
      'case "$1" in',
      `  manifest) grep -qxF "$3" "${directory}/registry" 2>/dev/null ;;`,
      `  push) echo "$2" >> "${directory}/registry" ;;`,
      `  inspect) echo "\${4%%:*}@${digest}" ;;`,
      'esac',
    ].join('\n');
    writeFileSync(path.join(bin, 'docker'), `${script}\n`);
    chmodSync(path.join(bin, 'docker'), 0o755);
    execFileSync('git', ['init', '--quiet', directory]);
    execFileSync('git', ['-C', directory, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', 'one']);
    return bin;
  }

  it('builds and pushes a new commit, reuses the pushed image on a rerun, and leaves the digest for the promotions', () => {
    const directory = path.join(scratch.path, 'repo');
    const bin = standInDocker(directory);
    const run = (): void => {
      // the login command needs the aws CLI: everything after it is what this test is about
      for (const command of build.commands.slice(1)) execFileSync('bash', ['-ec', command], { cwd: directory, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    };
    run();
    const firstLog = readFileSync(path.join(directory, 'docker.log'), 'utf8');
    expect(firstLog).toMatch(/^manifest inspect .*\nbuild --tag .*\npush .*\ninspect --format/);
    expect(readFileSync(path.join(directory, IMAGE_DIGEST_FILE), 'utf8').trim()).toBe(digest);
    run();
    const secondRun = readFileSync(path.join(directory, 'docker.log'), 'utf8').slice(firstLog.length);
    expect(secondRun).not.toMatch(/^build/m);
    expect(secondRun).toMatch(/^pull --quiet /m);
    expect(existsSync(path.join(directory, IMAGE_DIGEST_FILE))).toBe(true);
  });

  it('fails when docker gives no registry digest (nothing was pushed), instead of pinning garbage', () => {
    const directory = path.join(scratch.path, 'no-digest');
    const bin = standInDocker(directory);
    writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\ncase "$1" in manifest) exit 1 ;; inspect) echo "" ;; esac\n');
    expect(() => execFileSync('bash', ['-ec', build.commands[2]], { cwd: directory, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'pipe' })).toThrow();
  });
});
