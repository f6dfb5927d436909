/**
 * This repository's own pipeline: the options .projenrc.ts renders the CI files from, and the model
 * `retail-mlops pipeline run` executes, so the committed CI files and the local runner never differ.
 * In any retail-mlops repository (a team's too) the options are the ones `RetailMlopsProject` rendered
 * into `.retail-mlops.json` (`ci.pipeline`); these are the template's own.
 */
import type { PipelineModel, PipelineOptions } from './model';
import { createPipelineModel } from './model';
import { readProjectConfig } from '../core/config/settings';

export const projectPipelineOptions: PipelineOptions = {
  provider: 'local',
  // inside this repository the CLI runs from source (a team's repo calls the installed `npx retail-mlops`)
  cli: 'npm run --silent cli --',
  // the data stage ingests the environment's landing location (`.lake/landing`), as in a team's repository; the
  // template has no production data to land there, so its own CI lands a seeded LGSR sample first, in the same job
  // (deterministic: a re-run lands the same files, which the content-addressed lake skips)
  dataSetup: ['rm -rf .lake/landing', 'npm run --silent cli -- generate --rows 500000 --seed 42 --out .lake/landing'],
  // the test stage installs what the tests need with the set-up script README uses
  testSetup: ['bin/setup'],
};

/** The pipeline options of the repository in `directory`: `.retail-mlops.json`'s `ci.pipeline`, else the template's own. */
export function readProjectPipelineOptions(directory = process.cwd()): PipelineOptions {
  const config = readProjectConfig(directory) as { readonly ci?: { readonly pipeline?: PipelineOptions } };
  return config.ci?.pipeline ?? projectPipelineOptions;
}

/** The pipeline of the repository in `directory` (what its CI files were rendered from). */
export function createProjectPipeline(directory = process.cwd()): PipelineModel {
  return createPipelineModel(readProjectPipelineOptions(directory));
}

/**
 * The same pipeline for a team on Azure (`provider: 'azure'`): cloud stages authenticate through the
 * service connection the Azure template's pipeline identity is federated with
 * (`azureDevOpsServiceConnectionName`), the lake and the registry live in the template's storage
 * account and the image goes to its container registry (here: the dev deployment with the default
 * `namePrefix`). The ids are placeholders: `azureClientId` is the template's `pipelineIdentityClientId` output.
 */
export const azureProjectPipelineOptions: PipelineOptions = {
  ...projectPipelineOptions,
  provider: 'azure',
  azureServiceConnection: 'retail-mlops',
  azureTenantId: '00000000-0000-0000-0000-00000000000a',
  azureClientId: '00000000-0000-0000-0000-00000000000b',
  azureSubscriptionId: '00000000-0000-0000-0000-00000000000c',
  lake: 'https://stretailmlopsdev.blob.core.windows.net/lake',
  registry: 'https://stretailmlopsdev.blob.core.windows.net/registry',
  imageRepository: 'crretailmlopsdev.azurecr.io/retail-mlops',
};

export function createAzureProjectPipeline(): PipelineModel {
  return createPipelineModel(azureProjectPipelineOptions);
}
