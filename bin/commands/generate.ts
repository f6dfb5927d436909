import { Option, type Command } from 'commander';
import { InvalidOptionsError } from '../../core/errors';
import { generateLgsr } from '../../core/generator/generator';
import { GENERATOR_DEFAULTS, MAX_FAULT_RATE, resolveGenerateLgsrOptions, type GenerateLgsrOptions } from '../../core/generator/generator-options';
import type { HeaderVariant } from '../../core/schema/lgsr';
import { withGlobalFlags } from '../cli';
import { UsageError, positiveInteger, progressFor, runCommand, type GlobalFlags } from '../output';

interface GenerateFlags extends GlobalFlags {
  readonly rows: number;
  readonly seed: number;
  readonly variant: HeaderVariant;
  readonly faults: number;
  readonly weeks?: number;
  readonly startWeek: number;
  readonly out: string;
}

/** What `generate --json` prints. */
export interface GenerateSummary {
  readonly out: string;
  readonly rows: number;
  readonly baskets: number;
  readonly weeks: number;
  readonly files: number;
  readonly variant: HeaderVariant;
  readonly seed: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly seconds: number;
}

function nonNegativeInteger(name: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value.replace(/_/g, ''));
    if (value.trim() === '' || !Number.isSafeInteger(parsed) || parsed < 0) throw new UsageError(`${name} must be an integer ≥ 0, got '${value}'`);
    return parsed;
  };
}

function faultRate(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > MAX_FAULT_RATE) {
    throw new UsageError(`--faults must be a rate from 0 to ${MAX_FAULT_RATE}, got '${value}'`);
  }
  return parsed;
}

function shopWeek(value: string): number {
  const parsed = Number(value);
  if (!/^\d{6}$/.test(value) || parsed % 100 < 1 || parsed % 100 > 52) throw new UsageError(`--start-week must be a fiscal week YYYYWW (WW 01–52), got '${value}'`);
  return parsed;
}

function human(summary: GenerateSummary): string {
  const faultRows = Object.values(summary.faults).reduce((sum, count) => sum + count, 0);
  const faults = faultRows === 0 ? '' : `, ${faultRows.toLocaleString('en')} faulty (${Object.entries(summary.faults).map(([kind, count]) => `${kind} ${count}`).join(', ')})`;
  return (
    `wrote ${summary.rows.toLocaleString('en')} rows${faults}: ${summary.baskets.toLocaleString('en')} baskets, ${summary.weeks} weeks, ` +
    `${summary.files} file${summary.files === 1 ? '' : 's'} → ${summary.out} (${summary.variant}, seed ${summary.seed}) in ${summary.seconds.toFixed(1)} s`
  );
}

/** `retail-mlops generate`: seeded synthetic LGSR transactions. */
export function registerGenerate(program: Command): void {
  // program.command() (not new Command) so the sub-command inherits exitOverride: usage errors exit 2
  withGlobalFlags(program.command('generate'))
    .showHelpAfterError(false)
    .description('Write seeded synthetic LGSR transactions (.csv, .csv.gz, or a directory of transactions_YYYYWW.csv)')
    .requiredOption('--rows <n>', 'data rows to write (faulty rows included)', positiveInteger('--rows'))
    .requiredOption('--out <path>', 'output: a .csv or .csv.gz file, or a directory (one file per week)')
    .option('--seed <n>', 'random seed; same options and seed give byte-identical output', nonNegativeInteger('--seed'), GENERATOR_DEFAULTS.seed)
    .addOption(new Option('--variant <variant>', 'header variant').choices(['lgsr', 'seg']).default(GENERATOR_DEFAULTS.variant))
    .option('--faults <rate>', `share of faulty rows, 0–${MAX_FAULT_RATE}, spread over every quarantine fault kind`, faultRate, GENERATOR_DEFAULTS.faultRate)
    .option('--weeks <n>', 'number of fiscal weeks (default: about 24,000 rows a week)', positiveInteger('--weeks'))
    .option('--start-week <yyyyww>', 'first SHOP_WEEK', shopWeek, GENERATOR_DEFAULTS.startWeek)
    .action(async (flags: GenerateFlags) => {
      const options: GenerateLgsrOptions = {
        rows: flags.rows,
        seed: flags.seed,
        variant: flags.variant,
        faultRate: flags.faults,
        weeks: flags.weeks,
        startWeek: flags.startWeek,
        out: flags.out,
        progress: progressFor(flags),
      };
      try {
        resolveGenerateLgsrOptions(options);
      } catch (error) {
        if (error instanceof InvalidOptionsError) throw new UsageError(error.problems.join('; '));
        throw error;
      }
      await runCommand(
        flags,
        async (): Promise<GenerateSummary> => {
          const started = performance.now();
          const result = await generateLgsr(options);
          const seconds = Math.round((performance.now() - started) / 10) / 100;
          const { out, rows, baskets, weeks, files, variant, seed, faults } = result;
          return { out, rows, baskets, weeks, files, variant, seed, faults, seconds };
        },
        human,
      );
    });
}
