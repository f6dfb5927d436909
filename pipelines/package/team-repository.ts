/**
 * Packing the template and scaffolding team repositories from the tarball, the way README's "Start a
 * team repo" says: used by the scaffolding tests and `npm run bench:scaffold` (not part of the package).
 *
 * npm runs with `prefer-offline` (the local cache first: the tarball's dependencies are the template's
 * own), and with `onnxruntime-node-install=skip` (ONNX Runtime's installer would otherwise download CUDA
 * binaries: a new repository has no .npmrc yet to say so).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execute = promisify(execFile);

/** The environment every npm and projen call of a scaffold runs with. */
export function scaffoldEnvironment(): NodeJS.ProcessEnv {
  // vitest and CI settings of the calling process must not leak into the team repository's own runs:
  // with CI set, projen installs with `npm ci`, which a repository that has no lockfile yet refuses
  const { VITEST: _vitest, VITEST_POOL_ID: _pool, VITEST_WORKER_ID: _worker, NODE_OPTIONS: _options, CI: _ci, ...environment } = process.env;
  return { ...environment, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', NO_COLOR: '1' };
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs a command in `cwd`; throws with its output when it fails. */
export async function runIn(cwd: string, command: string, args: readonly string[], timeoutMinutes = 15): Promise<CommandResult> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await execute(command, [...args], { cwd, env: scaffoldEnvironment(), maxBuffer: 256 * 1024 * 1024, timeout: timeoutMinutes * 60_000 });
    return { stdout, stderr, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${failure.message}\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`.slice(0, 20_000));
  }
}

/** `npm run package`: compiles (lib/ and .jsii) and packs; returns the tarball in dist/js/. */
export async function packTemplate(root: string): Promise<string> {
  await runIn(root, 'npm', ['run', 'package']);
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  return path.join(root, 'dist', 'js', `${manifest.name}-${manifest.version}.tgz`);
}

/**
 * `projen new --from retail-mlops@file:<tarball> --cloud <cloud>` in a new empty directory under `parent`
 * (projen is the template's own, the version the package's peer dependency names). Returns the directory.
 */
export async function scaffoldTeamRepository(projen: string, tarball: string, cloud: string, parent: string): Promise<{ readonly directory: string; readonly seconds: number }> {
  mkdirSync(parent, { recursive: true });
  const directory = mkdtempSync(path.join(parent, `team-${cloud}-`));
  const result = await runIn(directory, projen, ['new', '--from', `retail-mlops@file:${tarball}`, '--cloud', cloud, '--no-git']);
  return { directory, seconds: result.seconds };
}

/**
 * A repacked template, version `version`, whose pipeline gained a stage (`audit-dependencies`, before the
 * manifests are synthesized): what an upgrade brings. Unpacks `tarball`, adds the stage to the compiled
 * pipeline model, bumps the version, packs again into `outputDirectory`.
 */
export async function repackWithExtraStage(tarball: string, version: string, outputDirectory: string): Promise<string> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'retail-mlops-repack-'));
  try {
    await runIn(scratch, 'tar', ['xzf', tarball]);
    const packageDirectory = path.join(scratch, 'package');
    const modelFile = path.join(packageDirectory, 'lib', 'pipelines', 'model.js');
    const model = readFileSync(modelFile, 'utf8');
    const anchor = /stage\(\{\s*id: 'synth-manifests',/;
    if (!anchor.test(model)) throw new Error(`cannot find the synth-manifests stage in ${modelFile}`);
    const stage = "stage({ id: 'audit-dependencies', name: 'Audit dependencies', commands: ['npm audit --omit=dev --audit-level=critical'], condition: everyBranch, caches: [npmCache], artifacts: [], credentials: none }),\n        ";
    writeFileSync(modelFile, model.replace(anchor, (found) => `${stage}${found}`));
    const manifestFile = path.join(packageDirectory, 'package.json');
    writeFileSync(manifestFile, `${JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), version }, null, 2)}\n`);
    mkdirSync(outputDirectory, { recursive: true });
    await runIn(packageDirectory, 'npm', ['pack', '--pack-destination', outputDirectory]);
    const packed = readdirSync(outputDirectory).find((file) => file.endsWith(`-${version}.tgz`));
    if (!packed) throw new Error(`npm pack left no tarball of version ${version} in ${outputDirectory}`);
    return path.join(outputDirectory, packed);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
