import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EXIT_USAGE, UsageError } from './output';

/** A command module adds one sub-command to the program. */
export type CommandRegistration = (program: Command) => void;

/** The commands, in the order `--help` lists them. */
const registrations: CommandRegistration[] = [];

/**
 * Builds the `retail-mlops` program. Nothing runs at import time; `main` parses argv.
 * Every sub-command gets `--json` and `--quiet` through `withGlobalFlags`.
 */
export function createProgram(): Command {
  const program = new Command('retail-mlops')
    .description('Basket price-sensitivity models from LGSR data: generate, ingest, train, evaluate, serve, deliver.')
    .showHelpAfterError()
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}

export function addCommands(...commands: CommandRegistration[]): void {
  registrations.push(...commands);
}

/** Adds the flags every command shares. */
export function withGlobalFlags(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (logs and progress go to stderr)')
    .option('-q, --quiet', 'no progress bars and no human summary');
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof InvalidArgumentError) {
      process.stderr.write(`retail-mlops: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}
