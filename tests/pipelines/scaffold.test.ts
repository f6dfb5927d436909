/**
 * The template as a team meets it, end to end: `npm run package`, then in empty directories
 * `projen new --from retail-mlops@file:<tarball> --cloud aws|azure`, then the new README's two commands
 * (`npm install && npm start`, `npm test`), its CI files and manifests checked, and an upgrade from the
 * tarball (version N) to a repacked one (N+1) whose pipeline gained a stage.
 *
 * Slow (a package build, two scaffolds with installs, two main jobs, an upgrade): minutes, most of it npm.
 * npm prefers its local cache; nothing else leaves the machine.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { azurePipelineSchemaErrors, groovyLint, javaAvailable, travisProblems } from './ci-file-checks';
import { azureStages, jenkinsStages, repositoryRoot, travisStages } from './ci-files';
import { packTemplate, repackWithExtraStage, runIn, scaffoldTeamRepository } from '../../pipelines/package/team-repository';
import { validateKubernetesObject, type KubernetesObject } from '../helpers/kubernetes-models';

const minutes = 60_000;
const projen = path.join(repositoryRoot, 'node_modules/.bin/projen');
/** The main job on a smaller generated sample than `npm start`'s default (same command, same stages). */
const mainJobRows = '60000';

function read(directory: string, file: string): string {
  return readFileSync(path.join(directory, file), 'utf8');
}

/** Every file of a repository but its installed modules, as path → text. */
function repositoryFiles(directory: string, relative = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(path.join(directory, relative), { withFileTypes: true })) {
    const file = path.posix.join(relative, entry.name);
    if (['node_modules', '.git', '.retail-mlops'].includes(entry.name)) continue;
    if (entry.isDirectory()) Object.assign(files, repositoryFiles(directory, file));
    else files[file] = read(directory, file);
  }
  return files;
}

async function checkCiFilesAndManifests(directory: string): Promise<void> {
  expect(azurePipelineSchemaErrors(read(directory, 'azure-pipelines.yml'))).toEqual([]);
  expect(travisProblems(read(directory, '.travis.yml'))).toEqual([]);
  if (javaAvailable()) {
    const lint = await groovyLint([path.join(directory, 'Jenkinsfile')], directory);
    expect(lint.errors).toEqual([]);
    expect(lint.exitCode).toBe(0);
  }
  const manifests = Object.entries(repositoryFiles(directory)).filter(([file]) => file.startsWith('manifests/dist/') && file.endsWith('.yaml'));
  expect(manifests.length).toBe(6);
  for (const [, content] of manifests) {
    for (const document of parseAllDocuments(content)) await validateKubernetesObject(document.toJSON() as KubernetesObject);
  }
}

describe.sequential('a team repository scaffolded from the packed template', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'retail-mlops-scaffold-'));
  let tarball = '';
  beforeAll(async () => {
    tarball = await packTemplate(repositoryRoot);
  }, 20 * minutes);
  // three repositories with their node_modules: removing them takes a while on a busy machine
  afterAll(() => rmSync(work, { recursive: true, force: true }), 10 * minutes);

  it('the package: lib/ and the .jsii assembly, one command, an exports map; no tests, benchmarks or data', async () => {
    const listing = (await runIn(work, 'tar', ['tzf', tarball])).stdout.split('\n').filter((line) => line.length > 0 && !line.endsWith('/'));
    const files = listing.map((line) => line.replace(/^package\//, ''));
    const unexpected = files.filter((file) => !['package.json', 'README.md', '.jsii'].includes(file) && !/^lib\/(core|providers|server|manifests|pipelines|bin)\/.+\.(js|d\.ts)$/.test(file));
    expect(unexpected).toEqual([]);
    expect(files.filter((file) => /^lib\/(tests?|bench)\//.test(file) || /\.test\.|\.(csv|gz|parquet|onnx)$/.test(file))).toEqual([]);
    const manifest = JSON.parse((await runIn(work, 'tar', ['xzOf', tarball, 'package/package.json'])).stdout) as {
      bin: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
      main: string;
      peerDependencies: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ 'retail-mlops': 'lib/bin/retail-mlops.js' });
    for (const [entry, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === 'string' ? [target] : [target.types, target.default]) expect(files, `exports ${entry}`).toContain(file.replace(/^\.\//, ''));
    }
    expect(manifest.main).toBe('lib/pipelines/project-type/index.js');
    expect(Object.keys(manifest.peerDependencies)).toContain('projen');
  });

  let azureRepository = '';

  it.each(['aws', 'azure'])('%s: projen new, then the README\'s two commands are green; CI files and manifests pass their checks; nothing refers to the template\'s layout', async (cloud) => {
    const { directory } = await scaffoldTeamRepository(projen, tarball, cloud, work);
    if (cloud === 'azure') azureRepository = directory;
    const readme = read(directory, 'README.md');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(readme).toContain('## Upgrading');
    await runIn(directory, 'npm', ['install']);
    const start = await runIn(directory, 'npm', ['start', '--', '--rows', mainJobRows]);
    expect(`${start.stdout}${start.stderr}`).toMatch(/candidate: \w+ v-[0-9a-f]{12} \(passed the gate\)/);
    const test = await runIn(directory, 'npm', ['test']);
    expect(`${test.stdout}${test.stderr}`).toMatch(/Tests\s+2 passed/);
    await checkCiFilesAndManifests(directory);
    const everything = Object.entries(repositoryFiles(directory)).filter(([file]) => file !== 'package-lock.json');
    expect(everything.filter(([, content]) => /\.\.\/shared|npm run (--silent )?cli\b/.test(content)).map(([file]) => file)).toEqual([]);
  }, 30 * minutes);

  it('upgrade N → N+1: generated files follow the new template, team-owned files stay byte-identical, the build stays green', async () => {
    expect(azureRepository).not.toBe('');
    const directory = azureRepository;
    // the team's own changes: an option, an extra stage, its own test
    const projenrc = read(directory, '.projenrc.ts');
    const anchor = '  cloud: Cloud.AZURE,\n';
    expect(projenrc).toContain(anchor);
    writeFileSync(
      path.join(directory, '.projenrc.ts'),
      projenrc.replace(anchor, `${anchor}  gate: { minimumAccuracy: 0.8 },\n  extraStages: [{ id: 'smoke-test', name: 'Smoke test', commands: ['npx retail-mlops models list'], after: 'register' }],\n`),
    );
    mkdirSync(path.join(directory, 'tests'), { recursive: true });
    writeFileSync(path.join(directory, 'tests/own.test.ts'), "import { expect, it } from 'vitest';\n\nit('is the team\\'s own test', () => expect(1 + 1).toBe(2));\n");
    await runIn(directory, 'npx', ['projen']);
    const owned = ['README.md', '.projenrc.ts', 'src/index.ts', 'tests/basket-request.test.ts', 'tests/own.test.ts', 'manifests/pins.json'];
    const before = Object.fromEntries(owned.map((file) => [file, read(directory, file)]));
    for (const stages of [jenkinsStages(read(directory, 'Jenkinsfile')), travisStages(read(directory, '.travis.yml')), azureStages(read(directory, 'azure-pipelines.yml'))]) {
      expect(stages.map((stage) => stage.name)).toContain('Smoke test');
      expect(stages.map((stage) => stage.name)).not.toContain('Audit dependencies');
    }

    const next = await repackWithExtraStage(tarball, '0.0.1', path.join(work, 'next'));
    await runIn(directory, 'npm', ['install', next]);
    await runIn(directory, 'npx', ['projen']);

    for (const stages of [jenkinsStages(read(directory, 'Jenkinsfile')), travisStages(read(directory, '.travis.yml')), azureStages(read(directory, 'azure-pipelines.yml'))]) {
      const names = stages.map((stage) => stage.name);
      expect(names.indexOf('Audit dependencies')).toBe(names.indexOf('Synth manifests') - 1);
      expect(names).toContain('Smoke test');
    }
    expect(JSON.parse(read(directory, '.retail-mlops.json')).gate.minimumAccuracy).toBe(0.8);
    expect(JSON.parse(read(directory, 'package.json')).dependencies['retail-mlops']).toMatch(/^file:.*retail-mlops-0\.0\.1\.tgz$/);
    expect(JSON.parse(read(directory, 'node_modules/retail-mlops/package.json')).version).toBe('0.0.1');
    for (const file of owned) expect(read(directory, file), file).toBe(before[file]);
    // synthesis is stable: a second run changes nothing
    const generated = repositoryFiles(directory);
    await runIn(directory, 'npx', ['projen']);
    expect(repositoryFiles(directory)).toEqual(generated);
    const test = await runIn(directory, 'npm', ['test']);
    expect(`${test.stdout}${test.stderr}`).toMatch(/Tests\s+3 passed/);
    await checkCiFilesAndManifests(directory);
  }, 30 * minutes);
});
