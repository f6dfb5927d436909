#!/usr/bin/env node
/**
 * The composition root: the `retail-mlops` CLI wires the core, the providers, the server and the
 * pipelines together. Each command lives in bin/commands/.
 */
import { addCommands, main } from './cli';
import { commands } from './commands';

addCommands(...commands);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`retail-mlops: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
