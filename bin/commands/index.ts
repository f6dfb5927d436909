import type { CommandRegistration } from '../cli';
import { generateCommand } from './generate';
import { registerIngest } from './ingest';
import { registerPipelineCommand } from './pipeline';
import { registerServe } from './serve';

/** Every command of the CLI, in `--help` order. Add a command module here. */
export const commands: CommandRegistration[] = [generateCommand, registerIngest, registerPipelineCommand, registerServe];
