import { lakeSource } from './data-source';
import { evaluateModel } from './evaluate-model';
import { RetailMlopsError } from '../../core/errors';
import { evaluateGate, type GateOptions, type GateResult } from '../../core/evaluation/gate';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import type { Lake } from '../../core/lake/lake';
import type { ModelRegistry } from '../../core/registry/port';
import type { ModelVersion } from '../../core/registry/types';

export interface GateModelOptions {
  readonly registry: ModelRegistry;
  /** The candidate: version id, #n or alias. */
  readonly model: string;
  /** The alias of the model to beat. @default 'production' */
  readonly champion?: string;
  /** Opens the lake whose candidate's test weeks the champion is re-scored on (same rows for both). @default compare stored metrics */
  readonly openLake?: () => Promise<Lake>;
  readonly thresholds?: GateOptions;
  /** Point this alias at the candidate when the gate passes. @default no alias */
  readonly alias?: string;
  readonly actor: string;
}

export interface GateSummary extends GateResult {
  readonly modelVersion: string;
  readonly champion?: { readonly alias: string; readonly modelVersion: string; readonly accuracy: number; readonly macroF1: number; readonly sameRows: boolean };
  readonly alias?: string;
}

/** The KPI floor and "not worse than the champion"; moves `alias` to the candidate when it passes. */
export async function gateModel(options: GateModelOptions): Promise<GateSummary> {
  const candidate = await options.registry.get(options.model);
  const championAlias = options.champion ?? 'production';
  const championVersion = await options.registry.get(championAlias).catch((error: unknown) => {
    if (RetailMlopsError.isInstance(error) && error.code === 'ALIAS_NOT_FOUND') return undefined;
    throw error;
  });
  let champion: GateSummary['champion'];
  let championMetrics: Pick<EvaluationMetrics, 'accuracy' | 'macroF1'> | undefined;
  if (championVersion && championVersion.id !== candidate.id) {
    championMetrics = await championOnSameRows(options, championVersion, candidate);
    champion = {
      alias: championAlias,
      modelVersion: championVersion.id,
      accuracy: championMetrics.accuracy,
      macroF1: championMetrics.macroF1,
      sameRows: options.openLake !== undefined,
    };
  }
  const result = evaluateGate(candidate.metrics, championMetrics, options.thresholds);
  if (result.passed && options.alias) {
    await options.registry.setAlias(options.alias, candidate.id, {
      actor: options.actor,
      reason: `gate passed: accuracy ${candidate.metrics.accuracy.toFixed(4)}, macro-F1 ${candidate.metrics.macroF1.toFixed(4)}${champion ? ` vs ${champion.alias} ${champion.modelVersion}` : ''}`,
    });
  }
  return { ...result, modelVersion: candidate.id, champion, alias: result.passed ? options.alias : undefined };
}

async function championOnSameRows(options: GateModelOptions, champion: ModelVersion, candidate: ModelVersion): Promise<EvaluationMetrics> {
  if (!options.openLake) return champion.metrics;
  const summary = await evaluateModel({
    registry: options.registry,
    model: champion.id,
    openSource: async () => lakeSource(await options.openLake!()),
    weeks: candidate.lineage.evaluationWeeks,
  });
  return summary.metrics;
}
