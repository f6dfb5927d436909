import type { CommandRegistration } from '../cli';
import { generateCommand } from './generate';

/** Every command of the CLI, in `--help` order. Add a command module here. */
export const commands: CommandRegistration[] = [generateCommand];
