import { DependencyType } from 'projen';
import { projectPipelineOptions } from './pipelines/project-pipeline';
import { Cloud, RetailMlopsProject } from './pipelines/project-type';
import { RETAIL_MLOPS_COMPILER_OPTIONS } from './pipelines/project-type/retail-mlops-project';

/**
 * retail-mlops: the project definition. Every generated file (package.json, tsconfig*.json,
 * .eslintrc.json, .gitignore, .npmrc, the CI files, Dockerfile, .retail-mlops.json, …) comes from here:
 * edit this file and run `npx projen`. It uses the project type teams scaffold from
 * (`RetailMlopsProject`, pipelines/project-type/), so what is tested here is what teams get.
 */
const topLevelFolders = ['core', 'providers', 'server', 'manifests', 'pipelines', 'bin', 'bench'];
/** What the package ships, compiled to lib/ (benchmarks, tests and the packaging scripts stay out). */
const packageFolders = ['core', 'providers', 'server', 'manifests', 'pipelines', 'bin'];

const project = new RetailMlopsProject({
  name: 'retail-mlops',
  description: 'Multi-cloud, GitOps-first MLOps template: basket price-sensitivity models from LGSR data, local/AWS/Azure.',
  defaultReleaseBranch: 'main',
  // the projen components that render CI files live in pipelines/ (.projenrc.ts imports them); npm, TypeScript 6,
  // vitest and no GitHub workflows come from the project type's defaults
  projenrcTsOptions: { projenCodeDir: 'pipelines' },
  srcdir: '.',
  sampleCode: false,
  // lint reports, never rewrites: npm test must not change files under a running edit or in CI
  eslintOptions: { dirs: topLevelFolders, devdirs: ['tests'], tsconfigPath: './tsconfig.dev.json', commandOptions: { fix: false } },
  cloud: Cloud.LOCAL,
  // the template's own CI lands a seeded sample in its lake's landing location, and installs what its tests need with bin/setup
  dataSetupCommands: [...(projectPipelineOptions.dataSetup ?? [])],
  testSetupCommands: [...(projectPipelineOptions.testSetup ?? [])],
  // the package's main entry is the project type (what `projen new --from retail-mlops` loads, jsii-compatible);
  // the runtime API sits under the `exports` map's other entries
  entrypoint: 'lib/pipelines/project-type/index.js',
  entrypointTypes: 'lib/pipelines/project-type/index.d.ts',
  // the one command the package installs (projen would otherwise publish every executable in bin/)
  bin: { 'retail-mlops': 'lib/bin/retail-mlops.js' },
  autoDetectBin: false,
  // the project type runs inside the team's projen (one instance: its classes must be projen's own); a team's AWS
  // infrastructure entry builds on aws-cdk-lib and cdk-nag (optional: teams without AWS infrastructure go without)
  peerDeps: ['projen@^0.103.25', 'aws-cdk-lib@^2.276.0', 'cdk-nag@^3.0.2'],
  peerDependencyOptions: { pinnedDevDependency: false },
  tsconfig: {
    include: packageFolders.map((folder) => `${folder}/**/*.ts`),
    exclude: ['node_modules', 'lib', 'tests', 'pipelines/package'],
    compilerOptions: { ...RETAIL_MLOPS_COMPILER_OPTIONS, outDir: 'lib', noUncheckedIndexedAccess: false },
  },
  // tsconfig.dev.json extends tsconfig.json: every compiler option comes from there
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: [...topLevelFolders.map((folder) => `${folder}/**/*.ts`), 'tests/**/*.ts', '.projenrc.ts'],
    exclude: ['node_modules', 'lib'],
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
    // EKS bootstrap (Helm charts, manifests) through aws-eks-v2's kubectl provider: kubectl and helm in a Lambda layer, from npm
    '@aws-cdk/lambda-layer-kubectl-v33@^2.2.2',
    'aws-cdk@2.1148.1',
    's3rver@^3.7.1',
    // the server's load benchmark (bench/serve.ts) and the OpenAPI lint in tests (2.77.0: the last that runs on Node 20)
    'autocannon@^8',
    '@types/autocannon@^7',
    '@redocly/cli@2.77.0',
    // the package's jsii assembly (.jsii: what `projen new --from` reads); 6.0.x compiles with TypeScript ~6.0
    'jsii@~6.0.16',
  ],
  gitignore: ['/.tmp/', '__pycache__/', '/providers/aws/infra/cdk.out/', '/.cache/', '/.worktrees/'],
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

/**
 * A task whose npm script runs its command directly (projen's own script would go through `npx projen <name>`):
 * `npm run <name>` and `npx projen <name>` do the same.
 */
function addDirectTask(name: string, exec: string, options: { readonly description?: string; readonly receiveArgs?: boolean } = {}): void {
  project.addTask(name, { exec, ...options });
  project.package.setScript(name, exec);
}

// The CLI, inside the repo: `npm run --silent cli -- <command>` (runs the TypeScript through tsx). `exec`: the
// shell npm starts becomes the CLI, so a signal to npm's child (`kill %1` of `npm run cli -- serve &`) reaches it.
addDirectTask('cli', 'exec tsx bin/retail-mlops.ts', { receiveArgs: true });
addDirectTask('start', 'exec tsx bin/retail-mlops.ts run', { description: 'Runs the main job on the embedded local default', receiveArgs: true });

// The cloud emulators: `npm run --silent emulate -- aws|azure` prints one JSON line (the env to export) when ready.
// exec: npm's SIGTERM reaches the emulator itself, not only the shell npm runs it in
addDirectTask('emulate', 'exec tsx bin/emulate.ts', { description: 'Starts the AWS or Azure emulators on loopback: npm run --silent emulate -- aws|azure', receiveArgs: true });

// The Kubernetes manifests: render manifests/dist/ from manifests/pins.json (the output is committed).
addDirectTask('synth:manifests', 'tsx manifests/synth.ts', { description: 'Renders manifests/dist/<cloud>/<env>/ from manifests/pins.json' });

// The Azure infrastructure: an ARM template generated from typed TypeScript (the output is committed; a test fails when stale).
addDirectTask('azure:template', 'tsx providers/azure/infra/synth.ts', { description: 'Writes providers/azure/infra/dist/azuredeploy.json' });
// Teardown of an Azure environment: its resource group (production needs --allow-production, and its lake lock removed first).
addDirectTask('azure:destroy', 'tsx providers/azure/infra/destroy.ts', {
  description: 'Deletes an Azure environment\'s resource group: npm run azure:destroy -- <env> --yes (dry run without --yes)',
  receiveArgs: true,
});
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
  addDirectTask(name, command, { description, receiveArgs: true });
}

// Benchmarks print numbers; they are not tests: `npm run bench:<name>` runs bench/<file>.ts.
for (const [name, file] of Object.entries({
  'ingest': 'ingest',
  'features': 'features',
  'lr': 'logistic-regression',
  'generate': 'generate',
  'train': 'train',
  'serve': 'serve',
  'predict': 'predict',
  'scaffold': 'scaffold',
  'quality': 'quality',
  'prediction-log': 'prediction-log',
})) {
  project.package.setScript(`bench:${name}`, `tsx bench/${file}.ts`);
}

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

// The package: one npm package with the runtime (CLI, API, core, providers, charts), the project type and
// its .jsii assembly.
const typesAndCode = (entry: string) => ({ types: `./lib/${entry}.d.ts`, default: `./lib/${entry}.js` });
project.package.addField('exports', {
  '.': typesAndCode('pipelines/project-type/index'),
  './core': typesAndCode('core/index'),
  './manifests': typesAndCode('manifests/index'),
  './server/client': typesAndCode('server/client'),
  './server/schemas': typesAndCode('server/schemas'),
  './workflows': typesAndCode('pipelines/workflows/index'),
  './providers/aws/infra': typesAndCode('providers/aws/infra/index'),
  './providers/azure/infra': typesAndCode('providers/azure/infra/index'),
  './.jsii': './.jsii',
  './package.json': './package.json',
});
project.package.addField('files', ['lib/**/*.js', 'lib/**/*.d.ts', '.jsii']);
project.package.addField('peerDependenciesMeta', { 'aws-cdk-lib': { optional: true }, 'cdk-nag': { optional: true } });
// projen's TypeScript project includes every .ts under srcdir ('.'): the package compiles only its own folders
project.tsconfig?.file.addOverride('include', packageFolders.map((folder) => `${folder}/**/*.ts`));
project.compileTask.exec('tsx pipelines/package/jsii-assembly.ts', { name: 'jsii-assembly' });
// `npm run package` compiles first, so the tarball in dist/js/ is always the current sources
project.packageTask.prependSpawn(project.compileTask);
project.gitignore.exclude('/.jsii');

project.synth();
