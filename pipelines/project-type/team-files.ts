/**
 * The files a team repository owns from the start: written once by `projen new`, never again (an
 * upgrade leaves them byte for byte as the team left them).
 */
import { Cloud } from './options';

const cloudNames: Readonly<Record<Cloud, string>> = { [Cloud.LOCAL]: 'the embedded local default', [Cloud.AWS]: 'AWS (S3, SageMaker, EKS)', [Cloud.AZURE]: 'Azure (Blob Storage, Azure ML, AKS)' };

/** README.md: the two set-up commands, what is generated, what is the team's, how to upgrade. */
export function teamReadme(name: string, cloud: Cloud): string {
  const infrastructure: Readonly<Record<Cloud, string[]>> = {
    [Cloud.LOCAL]: [],
    [Cloud.AWS]: [
      '`infra/` holds the CDK app built from the template\'s constructs (`infra/main.ts`, one stack per environment, cdk-nag checked):',
      '`npm run infra:synth` synthesizes it offline, `npm run infra:deploy -- RetailMlops-dev` deploys an environment.',
    ],
    [Cloud.AZURE]: [
      '`infra/azuredeploy.json` is the ARM template built from the template\'s typed definition (storage, ACR, AKS, Key Vault, Azure ML):',
      '`npm run infra:deploy -- --resource-group <group> --parameters environment=dev` deploys an environment.',
    ],
  };
  return [
    `# ${name}`,
    '',
    `A retail-mlops team repository on ${cloudNames[cloud]}: basket price-sensitivity models from LGSR data,`,
    'trained, gated, registered and deployed by one pipeline rendered for Jenkins, Travis CI and Azure Pipelines.',
    '',
    '## Set up (two commands)',
    '',
    '```bash',
    'npm install && npm start   # the main job on the embedded local default: a generated sample → ingest → train → evaluate → gate → register',
    'npm test                  # type check and this repository\'s tests',
    '```',
    '',
    '`npm start` leaves the lake, the registry and the evaluation report (`.retail-mlops/out/evaluation/report.html`) under `.retail-mlops/`;',
    'give it your files with `npm start -- --data <LGSR .csv/.csv.gz files or folders>`.',
    '',
    '## What is generated and what is yours',
    '',
    'Generated from `.projenrc.ts` (edit it, then run `npx projen`; never edit these by hand): `package.json`, `tsconfig*.json`,',
    'the CI files (`Jenkinsfile`, `.travis.yml`, `azure-pipelines.yml`), `.retail-mlops.json` (environments, gate, pipeline),',
    '`Dockerfile`, `.gitignore`, `manifests/deployment-targets.json`, `manifests/app.ts`, `manifests/dist/` and `infra/`.',
    ...(infrastructure[cloud].length > 0 ? ['', ...infrastructure[cloud]] : []),
    '',
    'Yours: this README, `src/` (your code), `tests/` (your tests), and `manifests/pins.json`, which every promotion',
    '(`npx retail-mlops promote --model candidate --env staging`) rewrites in a reviewed commit.',
    '',
    'The pipeline reads new data from each environment\'s landing location (`landing` in `.retail-mlops.json`, default',
    '`<lake>/landing`): drop raw LGSR files there and push. Add your own stages in `.projenrc.ts` (`extraStages`): they',
    'appear in every CI file.',
    '',
    '## Upgrading',
    '',
    '```bash',
    'npm install retail-mlops@<new version>   # or the new tarball: npm install <path>/retail-mlops-<version>.tgz',
    'npx projen                               # every generated file follows the new template',
    'npm test',
    '```',
    '',
    'Generated files follow the new version; the files listed as yours are never touched. The version in `package.json`',
    'is the one in force (the spec `projen new` wrote into `.projenrc.ts` only seeded the repository).',
    '',
  ].join('\n');
}

/** src/index.ts: the place for the team's own code, with an example that uses the template's public API. */
export function teamSampleCode(): string {
  return [
    '/**',
    ' * Your code. An example to start from: the storefront turns its basket into the request the',
    ' * prediction API takes (`retail-mlops/server/client` has the typed client that sends it).',
    ' */',
    "import type { BasketRequest } from 'retail-mlops/server/client';",
    '',
    'export interface StorefrontLine {',
    '  readonly productCode: string;',
    '  readonly categoryCodes: readonly [string, string, string, string];',
    '  readonly quantity: number;',
    '  readonly unitPrice: number;',
    '}',
    '',
    "export function basketRequest(context: BasketRequest['context'], lines: readonly StorefrontLine[]): BasketRequest {",
    '  return {',
    '    context,',
    '    lines: lines.map((line) => ({',
    '      PROD_CODE: line.productCode,',
    '      PROD_CODE_10: line.categoryCodes[0],',
    '      PROD_CODE_20: line.categoryCodes[1],',
    '      PROD_CODE_30: line.categoryCodes[2],',
    '      PROD_CODE_40: line.categoryCodes[3],',
    '      QUANTITY: line.quantity,',
    '      SPEND: Math.round(line.quantity * line.unitPrice * 100) / 100,',
    '    })),',
    '  };',
    '}',
    '',
  ].join('\n');
}

/** tests/basket-request.test.ts: a sample test against the API's own request schema. */
export function teamSampleTest(): string {
  return [
    "import { basketSchema } from 'retail-mlops/server/schemas';",
    "import { describe, expect, it } from 'vitest';",
    "import { basketRequest } from '../src';",
    '',
    "describe('basketRequest', () => {",
    "  const context = { STORE_CODE: 'STORE00001', STORE_FORMAT: 'LS', STORE_REGION: 'E02', SHOP_WEEKDAY: 7, SHOP_HOUR: 19, BASKET_TYPE: 'Full Shop', BASKET_DOMINANT_MISSION: 'Mixed' } as const;",
    '',
    "  it('builds a request the prediction API accepts', () => {",
    "    const request = basketRequest(context, [{ productCode: 'PRD0900033', categoryCodes: ['CL00201', 'DEP00067', 'G00021', 'D00005'], quantity: 3, unitPrice: 0.31 }]);",
    '    const parsed = basketSchema().safeParse(request);',
    '    expect(parsed.success).toBe(true);',
    '    expect(request.lines[0].SPEND).toBe(0.93);',
    '  });',
    '',
    "  it('is refused by the API without lines', () => {",
    '    expect(basketSchema().safeParse(basketRequest(context, [])).success).toBe(false);',
    '  });',
    '});',
    '',
  ].join('\n');
}
