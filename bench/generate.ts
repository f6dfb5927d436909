/**
 * `npm run bench:generate [-- rows [.csv|.csv.gz]]`: how fast the generator writes the full LGSR size
 * (2.7M rows by default) to a temporary file. Prints rows/s; the target is ≤ 15 s on 2 cores.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateLgsr } from '../core/generator/generator';

async function bench(): Promise<void> {
  const rows = Number(process.argv[2] ?? 2_700_000);
  const extension = process.argv[3] ?? '.csv';
  const directory = await mkdtemp(path.join(tmpdir(), 'bench-generate-'));
  try {
    for (const target of extension === 'both' ? ['.csv', '.csv.gz'] : [extension]) {
      const out = path.join(directory, `transactions${target}`);
      const started = performance.now();
      const result = await generateLgsr({ rows, out, faultRate: 0.001 });
      const seconds = (performance.now() - started) / 1000;
      const bytes = (await stat(out)).size;
      process.stdout.write(
        `${target.padEnd(7)} ${result.rows.toLocaleString('en')} rows, ${result.baskets.toLocaleString('en')} baskets, ${result.weeks} weeks, ` +
          `${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${Math.round(result.rows / seconds).toLocaleString('en')} rows/s ` +
          `(peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)\n`,
      );
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

bench().catch((error: unknown) => {
  process.stderr.write(`bench:generate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
