/**
 * This repository's own pipeline: the options .projenrc.ts renders the CI files from, and the model
 * `retail-mlops pipeline run` executes, so the committed CI files and the local runner never differ.
 */
import type { PipelineModel, PipelineOptions } from './model';
import { createPipelineModel } from './model';

export const projectPipelineOptions: PipelineOptions = {
  provider: 'local',
  // inside this repository the CLI runs from source (a team's repo calls the installed `npx retail-mlops`)
  cli: 'npm run --silent cli --',
  // CI clones the repository with shared/ beside it; the sample is never committed into the project
  dataFiles: ['../shared/data/lgsr-sample/transactions_*'],
};

export function createProjectPipeline(): PipelineModel {
  return createPipelineModel(projectPipelineOptions);
}
