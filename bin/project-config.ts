import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { GateOptions } from '../core/evaluation/gate';

/**
 * The project's settings, rendered by projen from .projenrc.ts into `.retail-mlops.json` (so a
 * team changes its gate in one reviewed place). Missing file or keys: the built-in defaults.
 */
export interface ProjectConfig {
  readonly gate?: GateOptions;
}

export function readProjectConfig(directory = process.cwd()): ProjectConfig {
  try {
    return JSON.parse(readFileSync(path.join(directory, '.retail-mlops.json'), 'utf8')) as ProjectConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
