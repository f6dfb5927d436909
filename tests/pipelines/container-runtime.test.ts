/**
 * What the image's runtime stage runs, without Docker: the build stage's `tsc -p tsconfig.json`
 * into a temporary directory, the runtime stage's `npm ci --omit=dev` there (from the local npm
 * cache: `--prefer-offline`, ≈ 6 s; it asks the registry only for metadata the cache lacks), then
 * the image's exact entrypoint, `node lib/bin/retail-mlops.js`, with production dependencies only.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repositoryRoot = path.resolve(__dirname, '../..');

describe('the image entrypoint on a clean production install', () => {
  let imageDirectory: string;

  beforeAll(async () => {
    imageDirectory = await mkdtemp(path.join(tmpdir(), 'retail-mlops-image-'));
    // build stage: compile to lib/
    await run(path.join(repositoryRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(imageDirectory, 'lib')], { cwd: repositoryRoot });
    // runtime stage: the lockfile's production dependencies, nothing else
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) await copyFile(path.join(repositoryRoot, file), path.join(imageDirectory, file));
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: imageDirectory,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NODE_ENV: 'production' },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 300_000);

  afterAll(async () => {
    if (imageDirectory) await rm(imageDirectory, { recursive: true, force: true });
  });

  it('has production dependencies only', () => {
    expect(existsSync(path.join(imageDirectory, 'lib/bin/retail-mlops.js'))).toBe(true);
    expect(existsSync(path.join(imageDirectory, 'node_modules/commander'))).toBe(true);
    for (const devDependency of ['typescript', 'vitest', 'projen', 'tsx']) {
      expect(existsSync(path.join(imageDirectory, 'node_modules', devDependency)), `${devDependency} is a dev dependency`).toBe(false);
    }
  });

  it('`node lib/bin/retail-mlops.js --help` starts and prints the usage', async () => {
    const { stdout } = await run(process.execPath, ['lib/bin/retail-mlops.js', '--help'], { cwd: imageDirectory, env: { ...process.env, NODE_ENV: 'production' } });
    expect(stdout).toContain('Usage: retail-mlops');
  });

  it(
    '`node lib/bin/retail-mlops.js serve --help` (the image CMD) starts',
    async () => {
      const { stdout } = await run(process.execPath, ['lib/bin/retail-mlops.js', 'serve', '--help'], {
        cwd: imageDirectory,
        env: { ...process.env, NODE_ENV: 'production' },
      });
      expect(stdout).toContain('Usage: retail-mlops serve');
    },
  );
});
