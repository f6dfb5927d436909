import type { Command } from 'commander';
import { ingest, type IngestSummary } from '../../core/data/ingest';
import { withGlobalFlags } from '../cli';
import { progressFor, runCommand, type GlobalFlags } from '../output';

interface IngestFlags extends GlobalFlags {
  readonly lake: string;
}

export function registerIngest(program: Command): void {
  withGlobalFlags(
    program
      .command('ingest')
      .description('validate LGSR files (.csv, .csv.gz, directories, globs) into the lake: raw, silver, gold, quarantine')
      .argument('<inputs...>', 'files, directories of weekly files, or quoted glob patterns')
      .requiredOption('--lake <dir>', 'lake directory (created when missing)'),
  ).action(async (inputs: string[], flags: IngestFlags) => {
    await runCommand(flags, () => ingest({ inputs, lake: flags.lake, progress: progressFor(flags) }), describeIngest);
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
