/**
 * Test helpers: each CI file checked by the best offline judge there is — npm-groovy-lint (CodeNarc's
 * Groovy parser) for Jenkinsfiles, Microsoft's pipeline schema for azure-pipelines.yml, our own schema
 * and semantic checks for .travis.yml. Used for this repository's files and for scaffolded team repositories.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { repositoryRoot } from './ci-files';
import { travisSchemaProblems, travisSemanticProblems } from './travis-checks';

const run = promisify(execFile);

/** Microsoft's official pipeline schema (CI clones the repository with shared/ beside it). */
export const azureSchemaPath = path.resolve(repositoryRoot, '../shared/schemas/azure-pipelines.schema.json');

let validateAzure: ValidateFunction | undefined;

/** Ajv's validator of Microsoft's schema (compiled once). */
export function azurePipelineValidator(): ValidateFunction {
  validateAzure ??= new Ajv({ strict: false, unicodeRegExp: false, allErrors: false }).compile(JSON.parse(readFileSync(azureSchemaPath, 'utf8')) as object);
  return validateAzure;
}

/** The schema's first errors for an azure-pipelines.yml text (empty when valid). */
export function azurePipelineSchemaErrors(text: string): unknown[] {
  const validate = azurePipelineValidator();
  return validate(parse(text)) ? [] : (validate.errors ?? []).slice(0, 5);
}

/** Our schema and semantic problems of a .travis.yml text (empty when valid). */
export function travisProblems(text: string): string[] {
  const configuration = parse(text) as Parameters<typeof travisSemanticProblems>[0];
  return [...travisSchemaProblems(configuration), ...travisSemanticProblems(configuration)];
}

export function javaAvailable(): boolean {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface GroovyLintResult {
  /** Every error-severity finding, as `<file>: <message>`. */
  readonly errors: readonly string[];
  readonly filesLinted: number;
  readonly exitCode: number;
}

/** `npm-groovy-lint --failon error --noserver` over Jenkinsfiles (Java must be on PATH; --noserver leaves no CodeNarc server behind). */
export async function groovyLint(files: readonly string[], cwd: string): Promise<GroovyLintResult> {
  const lint = path.join(repositoryRoot, 'node_modules/.bin/npm-groovy-lint');
  const result = await run(lint, ['--failon', 'error', '--noserver', '--output', 'json', ...files], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  const report = JSON.parse(result.stdout) as {
    summary: { totalFilesLinted: number };
    files: Record<string, { errors: { severity: string; msg: string }[] }>;
  };
  const errors = Object.entries(report.files).flatMap(([file, found]) => found.errors.filter((error) => error.severity === 'error').map((error) => `${file}: ${error.msg}`));
  return { errors, filesLinted: report.summary.totalFilesLinted, exitCode: 'code' in result ? result.code : 0 };
}
