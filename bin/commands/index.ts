import type { CommandRegistration } from '../cli';
import { registerConfig } from './config';
import { registerDrift } from './drift';
import { registerEvaluate } from './evaluate';
import { registerGate } from './gate';
import { registerGenerate } from './generate';
import { registerIngest } from './ingest';
import { registerModels } from './models';
import { registerMonitor } from './monitor';
import { registerPipeline } from './pipeline';
import { registerPredict } from './predict';
import { registerPromote } from './promote';
import { registerRun } from './run';
import { registerServe } from './serve';
import { registerTrain } from './train';
import { registerTrainJob } from './train-job';

/**
 * Every command of the CLI, in `--help` order. Add a command module here: each exports one
 * `register<Command>(program)`, parses its flags, calls one workflow (pipelines/workflows/) or library
 * entry, and prints the result; no command imports another.
 */
export const commands: CommandRegistration[] = [
  registerRun,
  registerGenerate,
  registerIngest,
  registerTrain,
  registerEvaluate,
  registerGate,
  registerPredict,
  registerModels,
  registerServe,
  registerDrift,
  registerMonitor,
  registerPromote,
  registerPipeline,
  registerConfig,
  registerTrainJob,
];
