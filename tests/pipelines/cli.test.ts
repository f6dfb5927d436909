import { describe, expect, it } from 'vitest';
import { createProjectPipeline } from '../../pipelines/project-pipeline';
import { cli } from '../helpers/cli';

describe('retail-mlops pipeline', () => {
  it('list --json: the project pipeline\'s stages, in order', async () => {
    const result = await cli(['pipeline', 'list', '--json']);
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout) as { stages: { id: string; commands: string[] }[] };
    expect(listing.stages.map((stage) => stage.id)).toEqual(createProjectPipeline().stages.map((stage) => stage.id));
  });

  it('list: a human listing with conditions and commands', async () => {
    const result = await cli(['pipeline', 'list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^11\. promote-production — Promote to production \[branch main, approval by release-approvers\]$/m);
    expect(result.stdout).toContain('$ npm run --silent cli -- train --lake .lake --registry .registry --algorithm all');
  });

  it('run: skips what cannot run here and says why; progress on stderr, the summary alone on stdout', async () => {
    const result = await cli(['pipeline', 'run', '--stage', 'register', 'promote-production', '--branch', 'feature/x', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { status: string; stages: { id: string; status: string; reason: string }[] };
    expect(summary.status).toBe('passed');
    expect(summary.stages.map((stage) => [stage.id, stage.status])).toEqual([['register', 'skipped'], ['promote-production', 'skipped']]);
    expect(summary.stages[0].reason).toBe('runs only on branch main (current: feature/x)');
    expect(result.stderr).toContain('[1/2] Register skipped');
    expect(result.stderr).toContain('[2/2] Promote to production skipped');
  });

  it('run --stage with an unknown name is a usage error (exit 2)', async () => {
    const result = await cli(['pipeline', 'run', '--stage', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no stage 'nope' \(stages: install, lint-test/);
  });
});
