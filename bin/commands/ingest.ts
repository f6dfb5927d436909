import type { Command } from 'commander';
import type { IngestSummary } from '../../core/lake/ingest';
import { ingestInputs } from '../../pipelines/workflows/ingest-inputs';
import { withGlobalFlags } from '../cli';
import { openCommandEnvironment, withEnvironmentFlags } from '../environment';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface IngestFlags extends GlobalFlags {
  readonly environment?: string;
  readonly provider?: string;
  readonly lake?: string;
  readonly landing?: string;
  readonly maxQuarantineRate?: string;
}

export function registerIngest(program: Command): void {
  withGlobalFlags(
    withEnvironmentFlags(
      program
        .command('ingest')
        .description(
          'validate LGSR files (.csv, .csv.gz, directories, globs, or a cloud location of them) into the lake: raw, silver, gold, quarantine; ' +
            'without inputs, the environment\'s landing location',
        )
        .argument('[inputs...]', 'files, directories of weekly files, quoted glob patterns, or s3:// / Blob locations holding them'),
      ['lake', 'landing', 'maxQuarantineRate'],
    ),
  ).action(async (inputs: string[], flags: IngestFlags) => {
    await runCommand(
      flags,
      async () => {
        const environment = await openCommandEnvironment(flags, ['lake']);
        return ingestInputs({ environment, inputs, progress: progressFor(flags) });
      },
      describeIngest,
    );
  });
}

function describeIngest(summary: IngestSummary): string {
  const skipped = summary.files.filter((file) => file.status === 'already-ingested');
  const lines = [
    `lake ${summary.lake} at version ${summary.lakeVersion} (${summary.seconds.toFixed(1)} s)`,
    `rows read ${summary.rowsRead}: accepted ${summary.rowsAccepted}, quarantined ${summary.rowsQuarantined}`,
  ];
  for (const [reason, count] of Object.entries(summary.quarantineReasons)) lines.push(`  quarantined ${reason}: ${count}`);
  lines.push(`baskets ${summary.baskets}, weeks ${summary.weeks.join(' ') || '-'}, silver partitions ${summary.partitions.length}`);
  for (const file of skipped) lines.push(`already in the lake, nothing added: ${file.name} (${file.sha256.slice(0, 12)})`);
  return lines.join('\n');
}
