import { DependencyType, JsonFile, javascript, typescript } from 'projen';
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
  // lint reports, never rewrites: npm test must not change files under a running edit or in CI
  eslintOptions: { dirs: topLevelFolders, devdirs: ['tests'], tsconfigPath: './tsconfig.dev.json', commandOptions: { fix: false } },
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
    // providers/azure/: loaded lazily, only when the azure provider is created (Node 20: identity 4.13, storage-blob 12.32)
    '@azure/arm-machinelearning@^2.1.1',
    '@azure/identity@~4.13.1',
    '@azure/storage-blob@~12.32.0',
    // providers/aws: loaded lazily inside the provider, so `local` users never load them
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/lib-storage@^3',
    '@aws-sdk/client-sagemaker@^3',
    '@aws-sdk/client-glue@^3',
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
    // Azure Blob emulator for the azure provider's tests (3.35: the last line that runs on Node 20)
    'azurite@~3.35.0',
    // providers/aws/infra: the CDK app (synth time only), its checks, and the CLI that deploys it
    // (aws-cdk 2.1148.x: 3.x rejects the 2.x cloud assembly); s3rver: S3 on loopback for the tests
    'aws-cdk-lib@^2.276.0',
    'cdk-nag@^3.0.2',
    'aws-cdk@2.1148.1',
    's3rver@^3.7.1',
    // the server's load benchmark (bench/serve.ts) and the OpenAPI lint in tests (2.77.0: the last that runs on Node 20)
    'autocannon@^8',
    '@types/autocannon@^7',
    '@redocly/cli@2.77.0',
  ],
  gitignore: ['/.tmp/', '__pycache__/', '/.retail-mlops/', '/providers/aws/infra/cdk.out/', '/.lake/', '/.registry/', '/.cache/', '/out/', '*.tsbuildinfo', '/.worktrees/'],
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

// The cloud emulators: `npm run --silent emulate -- aws|azure` prints one JSON line (the env to export) when ready.
project.addTask('emulate', { description: 'Starts the AWS or Azure emulators on loopback: npm run --silent emulate -- aws|azure', exec: 'exec tsx bin/emulate.ts', receiveArgs: true });
// exec: npm's SIGTERM reaches the emulator itself, not only the shell npm runs it in
project.package.setScript('emulate', 'exec tsx bin/emulate.ts');

// The Kubernetes manifests: render manifests/dist/ from manifests/pins.json (the output is committed).
project.addTask('synth:manifests', { description: 'Renders manifests/dist/<cloud>/<env>/ from manifests/pins.json', exec: 'tsx manifests/synth.ts' });
project.package.setScript('synth:manifests', 'tsx manifests/synth.ts');

// The Azure infrastructure: an ARM template generated from typed TypeScript (the output is committed; a test fails when stale).
project.addTask('azure:template', { description: 'Writes providers/azure/infra/dist/azuredeploy.json', exec: 'tsx providers/azure/infra/synth.ts' });
project.package.setScript('azure:template', 'tsx providers/azure/infra/synth.ts');
// AWS infrastructure (providers/aws/infra, a CDK app checked by cdk-nag): synthesize offline, deploy, tear down.
// The CLI runs from the app's folder (its cdk.json and the seeded cdk.context.json); extra arguments pass through.
const cdk = 'cd providers/aws/infra && cdk';
const cdkFlags = '--no-notices --no-version-reporting';
for (const [name, command, description] of [
  ['aws:synth', `${cdk} synth --quiet ${cdkFlags}`, 'Synthesizes the AWS stacks offline into providers/aws/infra/cdk.out (cdk-nag checks included)'],
  ['aws:diff', `${cdk} diff ${cdkFlags}`, 'Shows what deploying the AWS stacks would change'],
  ['aws:deploy', `${cdk} deploy ${cdkFlags}`, 'Deploys AWS stacks: npm run aws:deploy -- RetailMlops-dev'],
  ['aws:destroy', `${cdk} destroy ${cdkFlags}`, 'Destroys AWS stacks: npm run aws:destroy -- RetailMlops-dev (retained data stays)'],
] as const) {
  project.addTask(name, { description, exec: command, receiveArgs: true });
  project.package.setScript(name, command);
}

// The API's container image: a generated multi-stage Dockerfile and .dockerignore (`retail-mlops serve`, uid 10001).
new ContainerImage(project);

// Benchmarks print numbers; they are not tests.
project.package.setScript('bench:ingest', 'tsx bench/ingest.ts');
project.package.setScript('bench:features', 'tsx bench/features.ts');
project.package.setScript('bench:lr', 'tsx bench/logistic-regression.ts');
project.package.setScript('bench:generate', 'tsx bench/generate.ts');
project.package.setScript('bench:train', 'tsx bench/train.ts');
project.package.setScript('bench:serve', 'tsx bench/serve.ts');
project.package.setScript('bench:predict', 'tsx bench/predict.ts');
project.package.setScript('bench:quality', 'tsx bench/quality.ts');

project.eslint?.addIgnorePattern('lib/');
project.eslint?.addIgnorePattern('.lake/');
// numeric code (hashing, PRNGs, binning) uses bitwise operators on purpose
project.eslint?.addRules({
  'import/no-extraneous-dependencies': 'off',
  'no-bitwise': 'off',
  '@stylistic/max-len': ['error', { code: 180, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }],
});

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

// The team's model gate: the KPI floor every candidate must meet (read by `retail-mlops gate` and `run`).
new JsonFile(project, '.retail-mlops.json', {
  obj: {
    gate: {
      minimumAccuracy: 0.75,
      minimumMacroF1: 0.7,
      minimumClassPrecision: 0.65,
      championAccuracyTolerance: 0.01,
      championMacroF1Tolerance: 0.01,
    },
  },
});

project.synth();
