import type { CommandRegistration } from '../cli';
import { registerIngest } from './ingest';
import { registerPipelineCommand } from './pipeline';

/** Every command of the CLI, in `--help` order. Add a command module here. */
export const commands: CommandRegistration[] = [registerIngest, registerPipelineCommand];
