import type { CommandRegistration } from '../cli';
import { registerConfig } from './config';
import { registerDrift } from './drift';
import { registerEvaluate } from './evaluate';
import { registerGate } from './gate';
import { generateCommand } from './generate';
import { registerIngest } from './ingest';
import { registerModels } from './models';
import { registerPipelineCommand } from './pipeline';
import { registerPredict } from './predict';
import { registerPromote } from './promote';
import { registerRun } from './run';
import { registerServe } from './serve';
import { registerTrain } from './train';
import { registerTrainJob } from './train-job';

/** Every command of the CLI, in `--help` order. Add a command module here. */
export const commands: CommandRegistration[] = [
  registerRun,
  generateCommand,
  registerIngest,
  registerTrain,
  registerEvaluate,
  registerGate,
  registerPredict,
  registerModels,
  registerServe,
  registerDrift,
  registerPromote,
  registerPipelineCommand,
  registerConfig,
  registerTrainJob,
];
