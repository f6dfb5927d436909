import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { JsonFile, SampleFile, javascript, typescript } from 'projen';
import { Cloud, CiSystem, type RetailMlopsProjectOptions } from './options';
import { TEMPLATE_PACKAGE, resolveProjectSettings, type ProjectSettings } from './project-settings';
import { teamReadme, teamSampleCode, teamSampleTest } from './team-files';
import { renderTeamInfrastructure, infrastructureDependencies } from './team-infrastructure';
import { TeamManifests } from './team-manifests';
import { PROJECT_CONFIG_FILE } from '../../core/config/settings';
import { InvalidOptionsError, RetailMlopsError } from '../../core/errors';
import { DEFAULT_MONITORING } from '../../core/monitoring/settings';
import { AzurePipeline } from '../azure';
import { ContainerImage } from '../container-image';
import { JenkinsPipeline } from '../jenkins';
import { createPipelineModel, type PipelineModel } from '../model';
import { TravisPipeline } from '../travis';

/** The TypeScript settings of every retail-mlops repository: Node's own module resolution, so the package's `exports` map applies. */
export const RETAIL_MLOPS_COMPILER_OPTIONS: javascript.TypescriptConfigOptions['compilerOptions'] = {
  rootDir: '.',
  module: 'nodenext',
  moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
  target: 'ES2022',
  lib: ['es2023'],
  types: ['node'],
  skipLibCheck: true,
  esModuleInterop: true,
  resolveJsonModule: true,
};

/** What every retail-mlops repository (the template's too) gets unless its `.projenrc.ts` says otherwise: npm, TypeScript 6, vitest, no GitHub workflows. */
const REPOSITORY_DEFAULTS = {
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  typescriptVersion: '~6.0.3',
  minNodeVersion: '20.19.0',
  libdir: 'lib',
  testdir: 'tests',
  jest: false,
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  licensed: false,
} as const satisfies Partial<typescript.TypeScriptProjectOptions>;

/** `retail-mlops` or `retail-mlops@<spec>` (the dependency `projen new --from` adds). */
function isTemplateDependency(dependency: string): boolean {
  return dependency === TEMPLATE_PACKAGE || dependency.startsWith(`${TEMPLATE_PACKAGE}@`);
}

/**
 * The spec of the template dependency: once package.json names one, package.json is the source (a team
 * upgrades with `npm install retail-mlops@<version>` then `npx projen`); before that, the spec the
 * options carry (`projen new --from <spec>` puts it in `devDeps`).
 */
function templateDependency(options: RetailMlopsProjectOptions): string {
  const outdir = options.outdir ?? process.cwd();
  try {
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    if (manifest.dependencies?.[TEMPLATE_PACKAGE]) return TEMPLATE_PACKAGE;
  } catch {
    // no package.json yet: a new repository
  }
  return [...(options.deps ?? []), ...(options.devDeps ?? [])].find(isTemplateDependency) ?? TEMPLATE_PACKAGE;
}

/** A team repository's base options: what it gets unless its `.projenrc.ts` says otherwise. */
function teamBaseOptions(options: RetailMlopsProjectOptions): typescript.TypeScriptProjectOptions {
  const cloud = options.cloud ?? Cloud.LOCAL;
  const folders = ['src', ...(cloud === Cloud.AWS ? ['infra'] : []), ...(cloud === Cloud.LOCAL ? [] : ['manifests'])];
  return {
    ...REPOSITORY_DEFAULTS,
    srcdir: 'src',
    eslint: false,
    readme: { filename: 'README.md', contents: teamReadme(options.name, cloud) },
    ...options,
    sampleCode: false,
    tsconfig: {
      ...options.tsconfig,
      include: ['src/**/*.ts'],
      exclude: ['node_modules', 'lib', 'tests'],
      compilerOptions: { ...RETAIL_MLOPS_COMPILER_OPTIONS, outDir: 'lib', ...options.tsconfig?.compilerOptions },
    },
    // tsconfig.dev.json extends tsconfig.json: every compiler option comes from there
    tsconfigDevFile: 'tsconfig.dev.json',
    tsconfigDev: {
      ...options.tsconfigDev,
      include: [...folders.map((folder) => `${folder}/**/*.ts`), 'tests/**/*.ts', '.projenrc.ts'],
      exclude: ['node_modules', 'lib'],
    },
    deps: [...(options.deps ?? []).filter((dependency) => !isTemplateDependency(dependency)), templateDependency(options)],
    devDeps: [...(options.devDeps ?? []).filter((dependency) => !isTemplateDependency(dependency)), 'vitest@^4.1.12', 'tsx@^4', '@types/node@^20', ...infrastructureDependencies(cloud)],
  };
}

/**
 * A retail-mlops repository: a team's, scaffolded with `npx projen new --from retail-mlops --cloud aws`,
 * and the template's own (its package is `retail-mlops`). It renders everything the repository needs
 * and the team does not own — package.json with the runtime dependency, tsconfig, the CI files, the
 * Kubernetes manifests and their rendered `dist/`, the Dockerfile, `.retail-mlops.json`, `.gitignore`, the
 * cloud's infrastructure entry — and writes once what the team owns from then on: README, a sample
 * test, `src/` for its own code.
 *
 * Invalid options fail synthesis with one error listing every problem.
 *
 * @pjid retail-mlops
 */
export class RetailMlopsProject extends typescript.TypeScriptProject {
  /** Where lake, registry, training and the API run. */
  public readonly cloud: Cloud;
  /** Whether this is the template itself (its package is `retail-mlops`) rather than a team repository. */
  public readonly developsTemplate: boolean;
  private readonly settings: ProjectSettings;
  private readonly pipelineModel: PipelineModel;

  constructor(options: RetailMlopsProjectOptions) {
    const developsTemplate = options.name === TEMPLATE_PACKAGE;
    super(developsTemplate ? { ...REPOSITORY_DEFAULTS, ...options, sampleCode: false } : teamBaseOptions(options));
    this.developsTemplate = developsTemplate;
    this.settings = resolveProjectSettings(options);
    this.cloud = this.settings.cloud;
    const problems = [...this.settings.problems];
    let model: PipelineModel | undefined;
    try {
      model = createPipelineModel(this.settings.pipeline);
    } catch (error) {
      problems.push(...problemsOf(error, 'pipeline'));
    }
    let manifests: TeamManifests | undefined;
    if (!developsTemplate && this.settings.deploymentTargets) {
      try {
        manifests = new TeamManifests(this, { targets: this.settings.deploymentTargets });
      } catch (error) {
        problems.push(...problemsOf(error, 'api'));
      }
    }
    try {
      new ContainerImage(this, developsTemplate ? {} : { entrypoint: `node_modules/${TEMPLATE_PACKAGE}/lib/bin/${TEMPLATE_PACKAGE}.js` });
    } catch (error) {
      problems.push(...problemsOf(error, 'image'));
    }
    if (problems.length > 0 || model === undefined) throw new InvalidOptionsError('RetailMlopsProject options', problems);
    this.pipelineModel = model;

    // onnxruntime-node downloads CUDA binaries at install unless told not to; nothing may download here.
    this.npmrc.addConfig('onnxruntime-node-install', 'skip');
    this.gitignore.exclude('/.retail-mlops/', '/.lake/', '/.registry/', '/out/', 'cdk.out/', '*.tsbuildinfo');

    // the environments, the gate, how `retail-mlops monitor` judges drift and live accuracy (every threshold at its
    // default, spelled out so the team sees what it may change; a retrain trigger is added with projen's escape hatch,
    // e.g. `project.tryFindObjectFile('.retail-mlops.json')?.addOverride('monitoring.trigger', { kind: 'jenkins', … })`)
    // and the pipeline's options: what `retail-mlops` commands read
    new JsonFile(this, PROJECT_CONFIG_FILE, {
      obj: { ...this.settings.config, monitoring: { ...DEFAULT_MONITORING }, ci: { pipeline: this.settings.pipeline } },
    });
    this.addCiFiles();
    if (!developsTemplate) this.addTeamParts(manifests, options.sampleCode !== false);
  }

  private addCiFiles(): void {
    const model = this.pipelineModel;
    if (this.settings.ciSystems.includes(CiSystem.JENKINS)) new JenkinsPipeline(this, { model });
    if (this.settings.ciSystems.includes(CiSystem.TRAVIS)) new TravisPipeline(this, { model });
    if (this.settings.ciSystems.includes(CiSystem.AZURE_PIPELINES)) new AzurePipeline(this, { model });
  }

  private addTeamParts(manifests: TeamManifests | undefined, sampleCode: boolean): void {
    this.addTask('start', { description: 'Runs the main job on the embedded local default: a generated sample through the pipeline stages', exec: `${TEMPLATE_PACKAGE} run`, receiveArgs: true });
    this.package.setScript('start', `${TEMPLATE_PACKAGE} run`);
    this.testTask.reset();
    this.testTask.exec('tsc --noEmit -p tsconfig.dev.json', { name: 'typecheck' });
    this.testTask.exec('vitest run', { receiveArgs: true });
    manifests?.addTasks();
    renderTeamInfrastructure(this, this.settings);
    if (sampleCode) {
      new SampleFile(this, 'src/index.ts', { contents: teamSampleCode() });
      new SampleFile(this, 'tests/basket-request.test.ts', { contents: teamSampleTest() });
    }
  }
}

function problemsOf(error: unknown, label: string): string[] {
  if (error instanceof InvalidOptionsError) return error.problems.map((problem) => `${label}: ${problem}`);
  if (RetailMlopsError.isInstance(error)) return [`${label}: ${error.message}`];
  throw error;
}
