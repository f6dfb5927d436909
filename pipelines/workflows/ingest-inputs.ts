/**
 * Ingest (`retail-mlops ingest`, the pipeline's ingest stage): LGSR files — local paths, globs, or a
 * cloud location of them (default: the environment's landing location) — validated into the
 * environment's lake: raw, silver, gold, quarantine. A cloud lake is updated through a local working
 * copy and published only when the ingest succeeded (see providers/lake-access.ts).
 */
import { localInputs } from './input-files';
import { ingest, type IngestSummary } from '../../core/lake/ingest';
import type { ProgressReporter } from '../../core/progress';
import type { EnvironmentServices } from '../../providers/environment';

export interface IngestInputsOptions {
  readonly environment: EnvironmentServices;
  /** Files, directories, glob patterns or cloud locations. @default the environment's landing location */
  readonly inputs?: readonly string[];
  readonly progress?: ProgressReporter;
}

/** Ingests the inputs into the environment's lake; refuses (publishing nothing) above the environment's quarantine rate. */
export async function ingestInputs(options: IngestInputsOptions): Promise<IngestSummary> {
  const { environment } = options;
  const inputs = options.inputs && options.inputs.length > 0 ? options.inputs : [environment.settings.landing];
  const files = await localInputs(environment, inputs);
  try {
    const lake = environment.lake();
    const summary = await lake.update((directory) =>
      ingest({ inputs: files.paths, lake: directory, progress: options.progress, maxQuarantineRate: environment.settings.maxQuarantineRate }),
    );
    return { ...summary, lake: lake.location };
  } finally {
    await files.remove();
  }
}
