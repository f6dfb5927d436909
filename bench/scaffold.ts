/**
 * `npm run bench:scaffold`: scaffold-to-green wall time, the way a team starts — `projen new --from
 * <the packed template> --cloud <cloud>` in an empty directory (which installs every dependency), then
 * `npm test` in the new repository. Target: new + install + tests ≤ 2 minutes on 2 cores.
 *
 *   npm run bench:scaffold                       aws, packing the template first (npm run package)
 *   npm run bench:scaffold -- azure --no-pack    reuse dist/js/retail-mlops-<version>.tgz
 *
 * Prints one line per phase and the load average beside the figures (the machine may be shared).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { packTemplate, runIn, scaffoldTeamRepository } from '../pipelines/package/team-repository';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cloud = args.find((arg) => !arg.startsWith('--')) ?? 'aws';
  const root = process.cwd();
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  let tarball = path.join(root, 'dist', 'js', `${manifest.name}-${manifest.version}.tgz`);
  if (!args.includes('--no-pack') || !existsSync(tarball)) {
    const started = performance.now();
    tarball = await packTemplate(root);
    process.stdout.write(`pack (compile + jsii + npm pack, not counted): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'retail-mlops-bench-scaffold-'));
  try {
    const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
    process.stdout.write(`load average before: ${load()} (2 cores)\n`);
    const scaffold = await scaffoldTeamRepository(path.join(root, 'node_modules/.bin/projen'), tarball, cloud, work);
    process.stdout.write(`projen new --cloud ${cloud} (incl. npm install): ${scaffold.seconds.toFixed(1)} s\n`);
    const test = await runIn(scaffold.directory, 'npm', ['test']);
    process.stdout.write(`npm test: ${test.seconds.toFixed(1)} s\n`);
    const total = scaffold.seconds + test.seconds;
    process.stdout.write(`scaffold-to-green: ${total.toFixed(1)} s (target ≤ 120 s: ${total <= 120 ? 'met' : 'missed'}); load average after: ${load()}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:scaffold: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
