/**
 * This repository's own .projenrc.ts uses the project type teams scaffold from (RetailMlopsProject), and
 * `npx projen` leaves the tree as it is: every generated file committed here is exactly what the project
 * type renders now. Run on a copy of the tracked files (never the working tree itself).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from './ci-files';

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repositoryRoot, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file.length > 0 && existsSync(path.join(repositoryRoot, file))); // deleted but not yet committed: gone
}

function filesBelow(root: string, directory = ''): string[] {
  return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(directory, entry.name);
    if (entry.name === 'node_modules' || entry.name === '.git') return [];
    return entry.isDirectory() ? filesBelow(root, relative) : [relative];
  });
}

describe('.projenrc.ts (dogfood)', () => {
  const copy = mkdtempSync(path.join(tmpdir(), 'retail-mlops-dogfood-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('uses RetailMlopsProject', () => {
    expect(readFileSync(path.join(repositoryRoot, '.projenrc.ts'), 'utf8')).toMatch(/new RetailMlopsProject\(\{/);
  });

  it('npx projen leaves the tree unchanged', () => {
    const files = trackedFiles();
    for (const file of files) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      cpSync(path.join(repositoryRoot, file), path.join(copy, file));
    }
    symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(copy, 'node_modules'));
    // what `npx projen` runs (its default task), without the post-synthesis install
    execFileSync(path.join(repositoryRoot, 'node_modules/.bin/tsx'), ['.projenrc.ts'], { cwd: copy, env: { ...process.env, PROJEN_DISABLE_POST: 'true' }, stdio: 'pipe' });
    const after = filesBelow(copy);
    expect(after.filter((file) => !files.includes(file)), 'files projen added').toEqual([]);
    expect(files.filter((file) => !after.includes(file)), 'files projen deleted').toEqual([]);
    const changed = files.filter((file) => !readFileSync(path.join(copy, file)).equals(readFileSync(path.join(repositoryRoot, file))));
    expect(changed, 'files projen changed').toEqual([]);
  });
});
