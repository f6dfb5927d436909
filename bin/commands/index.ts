import type { CommandRegistration } from '../cli';
import { registerPipelineCommand } from './pipeline';

/** Every command of the CLI, in `--help` order. Add a command module here. */
export const commands: CommandRegistration[] = [registerPipelineCommand];
