import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { RetailMlopsError } from '../../core/errors';
import type { ModelRegistry } from '../../core/registry/port';
import type { AliasChange, ModelVersion } from '../../core/registry/types';
import { isEnvironment, type Environment } from '../../manifests/environments';
import { readModelPins, withModelPin, writeModelPins } from '../../manifests/model-pins';
import { synthesizeManifests } from '../../manifests/render';

const git = promisify(execFile);

/** A promotion or rollback that cannot go ahead (never gated, nothing to roll back to, dirty tree …). */
export class PromotionError extends RetailMlopsError {
  constructor(message: string) {
    super('PROMOTION_REFUSED', message);
  }
}

export interface PromotionOptions {
  readonly registry: ModelRegistry;
  readonly environment: string;
  /** The git repository holding manifests/pins.json. @default the current directory */
  readonly repository?: string;
  readonly actor: string;
}

export interface PromotionResult {
  readonly environment: Environment;
  readonly model: string;
  readonly previous: string;
  readonly branch: string;
  readonly commit: string;
  readonly message: string;
}

async function aliasHistory(registry: ModelRegistry, alias: string): Promise<readonly AliasChange[]> {
  return registry.aliasHistory(alias).catch((error: unknown) => {
    if (RetailMlopsError.isInstance(error) && error.code === 'ALIAS_NOT_FOUND') return [];
    throw error;
  });
}

function environmentOf(name: string): Environment {
  if (!isEnvironment(name)) throw new PromotionError(`unknown environment '${name}' (dev, staging or production)`);
  return name;
}

/**
 * Promotes a version that passed its gate (it was once the `candidate`) to an environment: pins it in
 * manifests/pins.json, re-renders the manifests, and commits both on a new branch whose message carries
 * the model's lineage and metrics — ready to open as a pull request; the review is the approval. The
 * environment's registry alias records the same change, naming the commit.
 */
export async function promoteModel(options: PromotionOptions & { readonly model: string }): Promise<PromotionResult> {
  const environment = environmentOf(options.environment);
  const version = await options.registry.get(options.model);
  const gated = (await aliasHistory(options.registry, 'candidate')).some((change) => change.to === version.id);
  if (!gated) throw new PromotionError(`${version.id} has not passed the gate: it was never the candidate (run 'retail-mlops gate --alias candidate')`);
  return pin(options, environment, version, 'promote');
}

/** Pins the version the environment had before its current one, the same reviewed way. */
export async function rollbackModel(options: PromotionOptions): Promise<PromotionResult> {
  const environment = environmentOf(options.environment);
  const history = await aliasHistory(options.registry, environment);
  const current = history.at(-1);
  if (!current?.from) throw new PromotionError(`${environment} has no earlier version to roll back to`);
  return pin(options, environment, await options.registry.get(current.from), 'rollback');
}

async function pin(options: PromotionOptions, environment: Environment, version: ModelVersion, action: 'promote' | 'rollback'): Promise<PromotionResult> {
  const repository = path.resolve(options.repository ?? '.');
  const run = async (...args: string[]): Promise<string> => (await git('git', ['-C', repository, ...args])).stdout.trim();
  const pinsFile = path.join(repository, 'manifests', 'pins.json');
  const pins = await readModelPins(pinsFile);
  const previous = pins[environment].model;
  if (previous === version.id) throw new PromotionError(`${environment} already pins ${version.id}`);
  if ((await run('status', '--porcelain', '--', 'manifests')) !== '') throw new PromotionError('manifests/ has uncommitted changes: commit or stash them first');

  const branch = `${action}/${environment}/${version.id}`;
  await run('switch', '--create', branch);
  await writeModelPins(pinsFile, withModelPin(pins, environment, { ...pins[environment], model: version.id }));
  await synthesizeManifests({ pinsFile, outputDirectory: path.join(repository, 'manifests', 'dist') });
  await run('add', '--', 'manifests/pins.json', 'manifests/dist');
  const message = commitMessage(action, environment, version, previous);
  await run('-c', `user.name=${options.actor}`, '-c', `user.email=${options.actor}@retail-mlops.invalid`, 'commit', '--quiet', '--message', message);
  const commit = await run('rev-parse', 'HEAD');
  await options.registry.setAlias(environment, version.id, {
    actor: options.actor,
    reason: `${action === 'promote' ? 'promoted' : 'rolled back'} by commit ${commit.slice(0, 12)} on branch ${branch} (merge the pull request to deploy)`,
  });
  return { environment, model: version.id, previous, branch, commit, message };
}

function commitMessage(action: 'promote' | 'rollback', environment: Environment, version: ModelVersion, previous: string): string {
  const { metrics, lineage } = version;
  const perClass = Object.entries(metrics.perClass)
    .map(([label, values]) => `${label} precision ${values.precision.toFixed(4)} recall ${values.recall.toFixed(4)}`)
    .join('; ');
  return [
    `${action === 'promote' ? 'Promote' : 'Roll back'} ${environment} to model ${version.id} (${lineage.algorithm})`,
    '',
    `Pins ${version.id} (#${version.sequence}) in manifests/pins.json for ${environment}, replacing ${previous}, and re-renders manifests/dist.`,
    '',
    'Metrics on held-out weeks:',
    `  accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)}, log-loss ${metrics.logLoss.toFixed(4)}, ${metrics.rows} baskets`,
    `  ${perClass}`,
    'Lineage:',
    `  lake version ${lineage.lakeVersion}; trained on weeks ${lineage.trainingWeeks.join(' ')}; evaluated on ${lineage.evaluationWeeks.join(' ')}`,
    `  feature spec ${lineage.featureSpecVersion} (${lineage.featureSpecHash}); code ${lineage.codeCommit}`,
    `  input files: ${lineage.inputFiles.map((file) => `${file.path} (${file.sha256.slice(0, 12)})`).join(', ')}`,
    `  parameters: ${JSON.stringify(lineage.parameters)}`,
    '',
    `Retail-Mlops-Model: ${version.id}`,
    `Retail-Mlops-Environment: ${environment}`,
    `Retail-Mlops-Previous-Model: ${previous}`,
  ].join('\n');
}
