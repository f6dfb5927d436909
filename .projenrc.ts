import { DependencyType, javascript, typescript } from 'projen';
import { AzurePipeline } from './pipelines/azure';
import { ContainerImage } from './pipelines/container-image';
import { JenkinsPipeline } from './pipelines/jenkins';
import { createProjectPipeline } from './pipelines/project-pipeline';
import { TravisPipeline } from './pipelines/travis';

/**
 * retail-mlops: the project definition. Every generated file (package.json, tsconfig*.json,
 * .eslintrc.json, .gitignore, .npmrc, …) comes from here: edit this file and run `npx projen`.
 */
const topLevelFolders = ['core', 'providers', 'server', 'manifests', 'pipelines', 'bin', 'bench'];

const project = new typescript.TypeScriptProject({
  name: 'retail-mlops',
  description: 'Multi-cloud, GitOps-first MLOps template: basket price-sensitivity models from LGSR data, local/AWS/Azure.',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // the projen components that render CI files live in pipelines/ (.projenrc.ts imports them)
  projenrcTsOptions: { projenCodeDir: 'pipelines' },
  typescriptVersion: '~6.0.3',
  minNodeVersion: '20.19.0',
  srcdir: '.',
  libdir: 'lib',
  testdir: 'tests',
  sampleCode: false,
  jest: false,
  eslintOptions: { dirs: topLevelFolders, devdirs: ['tests'], tsconfigPath: './tsconfig.dev.json' },
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  licensed: false,
  entrypoint: 'lib/core/index.js',
  bin: { 'retail-mlops': 'lib/bin/retail-mlops.js' },
  tsconfig: {
    include: topLevelFolders.map((folder) => `${folder}/**/*.ts`),
    exclude: ['node_modules', 'lib', 'tests'],
    compilerOptions: {
      rootDir: '.',
      outDir: 'lib',
      module: 'nodenext',
      moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
      target: 'ES2022',
      lib: ['es2023'],
      types: ['node'],
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      noUncheckedIndexedAccess: false,
    },
  },
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: [...topLevelFolders.map((folder) => `${folder}/**/*.ts`), 'tests/**/*.ts', '.projenrc.ts'],
    exclude: ['node_modules', 'lib'],
    compilerOptions: {
      rootDir: '.',
      module: 'nodenext',
      moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
      target: 'ES2022',
      lib: ['es2023'],
      types: ['node'],
      skipLibCheck: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      noUncheckedIndexedAccess: false,
    },
  },
  deps: [
    '@duckdb/node-api@1.5.6-r.1',
    'onnxruntime-node@~1.30.0',
    'onnx-proto@^8.0.1',
    'zod@^4',
    'commander@^14',
    'cli-progress@^3.12.0',
    'hono@^4',
    '@hono/node-server@^2',
    '@hono/zod-openapi@^1',
    'prom-client@^15',
    // manifests/: cdk8s charts; runtime deps because the promotion command (bin/) re-renders them
    'cdk8s@^2.70.106',
    'cdk8s-plus-28@^2.5.6',
    'constructs@^10.5.0',
  ],
  devDeps: [
    'vitest@^4.1.12',
    'tsx@^4',
    '@types/cli-progress',
    '@types/node@^20',
    // offline validation of the rendered manifests in tests (4.x: the last line that runs on Node 20)
    'kubernetes-models@^4.5.1',
    '@kubernetes-models/argo-cd@^2.7.2',
    // report screenshot test
    'pngjs@^7',
    '@types/pngjs@^6',
    // CI file validation: Azure Pipelines schema, YAML parsing, Jenkinsfile lint (16.x: the last line on Node 20)
    'ajv@^8',
    'yaml@^2',
    'npm-groovy-lint@~16.2.0',
    // the server's load benchmark (bench/serve.ts) and the OpenAPI lint in tests (2.77.0: the last that runs on Node 20)
    'autocannon@^8',
    '@types/autocannon@^7',
    '@redocly/cli@2.77.0',
  ],
  gitignore: ['/.lake/', '/.registry/', '/.cache/', '/out/', '*.tsbuildinfo', '/.worktrees/'],
});

// constructs is a runtime dependency (cdk8s needs it at run time); projen's own build-time entry would duplicate it.
project.deps.removeDependency('constructs', DependencyType.BUILD);

// onnxruntime-node downloads CUDA binaries at install unless told not to; nothing may download here.
project.npmrc.addConfig('onnxruntime-node-install', 'skip');

// Tests: vitest runs the TypeScript sources directly; `npm test` = lint + type check + all tests.
project.testTask.reset();
project.testTask.spawn(project.tasks.tryFind('eslint')!);
project.testTask.exec('tsc --noEmit -p tsconfig.dev.json', { name: 'typecheck' });
project.testTask.exec('vitest run --config tests/vitest.config.mts', { receiveArgs: true });
project.addTask('test:watch', { exec: 'vitest --config tests/vitest.config.mts' });

// The CLI, inside the repo: `npm run --silent cli -- <command>` (runs the TypeScript through tsx).
project.addTask('cli', { exec: 'tsx bin/retail-mlops.ts', receiveArgs: true });
project.addTask('start', { description: 'Runs the main job on the embedded local default', exec: 'tsx bin/retail-mlops.ts run', receiveArgs: true });
project.package.setScript('cli', 'tsx bin/retail-mlops.ts');
project.package.setScript('start', 'tsx bin/retail-mlops.ts run');

// The Kubernetes manifests: render manifests/dist/ from manifests/pins.json (the output is committed).
project.addTask('synth:manifests', { description: 'Renders manifests/dist/<cloud>/<env>/ from manifests/pins.json', exec: 'tsx manifests/synth.ts' });
project.package.setScript('synth:manifests', 'tsx manifests/synth.ts');

// The API's container image: a generated multi-stage Dockerfile and .dockerignore (`retail-mlops serve`, uid 10001).
new ContainerImage(project);

// Benchmarks print numbers; they are not tests.
project.package.setScript('bench:ingest', 'tsx bench/ingest.ts');
project.package.setScript('bench:lr', 'tsx bench/logistic-regression.ts');
project.package.setScript('bench:generate', 'tsx bench/generate.ts');
project.package.setScript('bench:serve', 'tsx bench/serve.ts');

project.eslint?.addIgnorePattern('lib/');
project.eslint?.addIgnorePattern('.lake/');
// numeric code (hashing, PRNGs, binning) uses bitwise operators on purpose
project.eslint?.addRules({ 'import/no-extraneous-dependencies': 'off', 'no-bitwise': 'off' });

// Lint every folder (tests included) against the dev tsconfig, which includes them all.
const eslintrc = project.tryFindObjectFile('.eslintrc.json');
eslintrc?.addDeletionOverride('parserOptions.projectService');
eslintrc?.addOverride('parserOptions.project', './tsconfig.dev.json');

// CI: one pipeline model (pipelines/project-pipeline.ts) rendered for Jenkins, Travis CI and Azure Pipelines;
// `retail-mlops pipeline run` executes the same stages locally.
const pipeline = createProjectPipeline();
new JenkinsPipeline(project, { model: pipeline });
new TravisPipeline(project, { model: pipeline });
new AzurePipeline(project, { model: pipeline });

project.synth();
