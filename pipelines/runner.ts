/**
 * The local pipeline runner: executes the same model the CI files are rendered from, stage by stage,
 * each command in a child process, and stops at the first failure. Stages that need cloud
 * credentials, a manual approval, another branch or a missing tool are skipped with the reason.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import type { PipelineModel, PipelineStage } from './model';
import { stageRunsOnBranch } from './model';
import { ProblemCollector } from '../core/errors';

/** `not-run`: an earlier stage failed. */
export type StageStatus = 'passed' | 'failed' | 'skipped' | 'not-run';

export interface StageResult {
  readonly id: string;
  readonly name: string;
  readonly status: StageStatus;
  /** Wall time of the stage's commands (0 when skipped or not run). */
  readonly seconds: number;
  /** Exit code of the last command run (the failing one when `failed`). */
  readonly exitCode?: number;
  /** Why the stage was skipped or not run. */
  readonly reason?: string;
  /** The command that failed. */
  readonly failedCommand?: string;
}

export interface PipelineRunSummary {
  readonly status: 'passed' | 'failed';
  readonly seconds: number;
  /** The branch the conditions were evaluated against. */
  readonly branch?: string;
  readonly stages: readonly StageResult[];
}

interface ProgressPosition {
  /** 1-based position among the selected stages. */
  readonly index: number;
  readonly total: number;
  readonly stage: PipelineStage;
}

export type PipelineProgressEvent =
  | ({ readonly kind: 'stage-start' } & ProgressPosition)
  | ({ readonly kind: 'command'; readonly command: string } & ProgressPosition)
  | ({ readonly kind: 'stage-end'; readonly result: StageResult } & ProgressPosition);

export interface RunPipelineOptions {
  /** Stage ids or names to run, in the model's order. @default - every stage */
  readonly stages?: readonly string[];
  /** Where the commands run (the repository root). @default process.cwd() */
  readonly cwd?: string;
  /** The environment the pipeline's and stages' variables are added to. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The branch conditions are evaluated against. @default - unknown: branch-filtered stages are skipped */
  readonly branch?: string;
  /** Called as stages start and end and as each command starts. @default - nothing */
  readonly onProgress?: (event: PipelineProgressEvent) => void;
  /** Receives the commands' standard output. @default process.stdout */
  readonly stdout?: NodeJS.WritableStream;
  /** Receives the commands' standard error. @default process.stderr */
  readonly stderr?: NodeJS.WritableStream;
  /** The shell that runs each command with `-c`. @default '/bin/sh' */
  readonly shell?: string;
}

/** The stages `names` select (ids or display names, case-insensitive), in pipeline order; throws listing unknown names. */
export function selectStages(model: PipelineModel, names?: readonly string[]): PipelineStage[] {
  if (names === undefined || names.length === 0) return [...model.stages];
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const problems = new ProblemCollector('stage selection');
  for (const name of wanted) {
    problems.check(
      model.stages.some((stage) => stage.id === name || stage.name.toLowerCase() === name),
      `no stage '${name}' (stages: ${model.stages.map((stage) => stage.id).join(', ')})`,
    );
  }
  problems.throwIfAny();
  return model.stages.filter((stage) => wanted.has(stage.id) || wanted.has(stage.name.toLowerCase()));
}

/** True when `name` is an executable file on `searchPath` (a PATH value). */
function isOnPath(name: string, searchPath: string | undefined): boolean {
  for (const directory of (searchPath ?? '').split(path.delimiter).filter((entry) => entry.length > 0)) {
    try {
      accessSync(path.join(directory, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Why a stage cannot run on this machine, or undefined when it can. */
export function localSkipReason(stage: PipelineStage, branch: string | undefined, searchPath: string | undefined, secretVariables?: NodeJS.ProcessEnv): string | undefined {
  const approval = stage.condition.approval;
  if (approval) return `needs a manual approval by '${approval.group}' (${approval.environment}); runs in CI only`;
  if (!stageRunsOnBranch(stage, branch)) {
    return `runs only on branch ${stage.condition.branches.join(' or ')} (current: ${branch ?? 'unknown'})`;
  }
  const credentials = stage.credentials;
  if (credentials.cloud === 'aws') return `needs aws credentials (OIDC role ${credentials.roleArn}); runs in CI only`;
  if (credentials.cloud === 'azure') return `needs azure credentials (service connection ${credentials.serviceConnection}); runs in CI only`;
  const missing = stage.requiredTools.filter((tool) => !isOnPath(tool, searchPath));
  if (missing.length > 0) return `needs ${missing.join(', ')} on PATH`;
  const unset = (stage.secrets ?? []).filter((secret) => !secretVariables?.[secret.variable]).map((secret) => secret.variable);
  if (unset.length > 0) return `needs ${unset.join(', ')} in the environment (${stage.secrets?.find((secret) => secret.variable === unset[0])?.purpose})`;
  return undefined;
}

interface CommandOutcome {
  readonly exitCode: number;
}

interface CommandContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly shell: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function runCommand(command: string, options: CommandContext): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn(options.shell, ['-c', command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => options.stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => options.stderr.write(chunk));
    child.on('error', (error) => {
      options.stderr.write(`cannot start ${options.shell}: ${error.message}\n`);
      resolve({ exitCode: 127 });
    });
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 + signalNumber(signal) : 1) }));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

function secondsSince(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 1e6) / 1e3;
}

/**
 * Runs the pipeline's stages (or the selected ones) in order and returns what happened to each.
 * Never throws for a failing command: the summary says `failed` and names it.
 */
export async function runPipeline(model: PipelineModel, options: RunPipelineOptions = {}): Promise<PipelineRunSummary> {
  const selected = selectStages(model, options.stages);
  const cwd = options.cwd ?? process.cwd();
  const baseEnvironment = options.env ?? process.env;
  const shell = options.shell ?? '/bin/sh';
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const report = options.onProgress ?? (() => undefined);
  const pipelineStart = process.hrtime.bigint();
  const results: StageResult[] = [];
  let failed = false;

  for (const [position, stage] of selected.entries()) {
    const where = { index: position + 1, total: selected.length, stage };
    report({ kind: 'stage-start', ...where });
    let result: StageResult;
    const environment: NodeJS.ProcessEnv = { ...baseEnvironment, ...model.environment, ...stage.environment };
    const skipReason = failed ? undefined : localSkipReason(stage, options.branch, environment.PATH, environment);
    if (failed) {
      result = { id: stage.id, name: stage.name, status: 'not-run', seconds: 0, reason: 'an earlier stage failed' };
    } else if (skipReason !== undefined) {
      result = { id: stage.id, name: stage.name, status: 'skipped', seconds: 0, reason: skipReason };
    } else {
      const start = process.hrtime.bigint();
      let exitCode = 0;
      let failedCommand: string | undefined;
      for (const command of stage.commands) {
        report({ kind: 'command', command, ...where });
        ({ exitCode } = await runCommand(command, { cwd, env: environment, shell, stdout, stderr }));
        if (exitCode !== 0) {
          failedCommand = command;
          break;
        }
      }
      failed = failedCommand !== undefined;
      result = {
        id: stage.id,
        name: stage.name,
        status: failed ? 'failed' : 'passed',
        seconds: secondsSince(start),
        exitCode,
        ...(failedCommand === undefined ? {} : { failedCommand }),
      };
    }
    results.push(result);
    report({ kind: 'stage-end', result, ...where });
  }
  return { status: failed ? 'failed' : 'passed', seconds: secondsSince(pipelineStart), ...(options.branch === undefined ? {} : { branch: options.branch }), stages: results };
}
