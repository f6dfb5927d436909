/**
 * A separate process writing to a local registry at the same time as others (run by
 * registry.test.ts through tsx): registers its own models and one shared model, and moves an alias.
 * Prints one JSON document with what it did.
 *
 * Usage: tsx registry-worker.ts <root> <worker index> <distinct models> <alias moves> <version ids, comma-separated>
 */
import { createLocalRegistry } from '../../../providers/local/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';

async function main(): Promise<void> {
  const [root, workerText, distinctText, movesText, targetsText] = process.argv.slice(2);
  const worker = Number(workerText);
  const registry = createLocalRegistry({ root });
  const targets = targetsText ? targetsText.split(',') : [];
  const registered: { id: string; sequence: number; created: boolean; seed: string }[] = [];
  const moves: boolean[] = [];
  // interleave registrations and alias moves so they contend with the other workers
  for (let step = 0; step < Math.max(Number(distinctText), Number(movesText)); step++) {
    if (step < Number(distinctText)) {
      const seed = `worker-${worker}-model-${step}`;
      const { version, created } = await registry.register(sampleRegistration(seed));
      registered.push({ id: version.id, sequence: version.sequence, created, seed });
    }
    if (step === 0) {
      const { version, created } = await registry.register(sampleRegistration('shared-by-all-workers'));
      registered.push({ id: version.id, sequence: version.sequence, created, seed: 'shared-by-all-workers' });
    }
    if (step < Number(movesText) && targets.length > 0) {
      const target = targets[(worker + step) % targets.length];
      const { changed } = await registry.setAlias('production', target, { actor: `worker-${worker}`, reason: `move ${step}` });
      moves.push(changed);
    }
  }
  process.stdout.write(`${JSON.stringify({ worker, pid: process.pid, registered, moves })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
