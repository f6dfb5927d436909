/**
 * The promotion gate: a candidate model passes when it clears a KPI floor (accuracy, macro-F1, every
 * class's precision) and is not worse than the current champion by more than a tolerance. Every
 * check is evaluated and every failing one reported, never just the first.
 */
import { ProblemCollector, RetailMlopsError } from '../errors';
import type { EvaluationMetrics } from './metrics';

/** Thresholds of the gate. Flat, readonly, JSON-serialisable (`.projenrc.ts` passes them through). */
export interface GateOptions {
  /**
   * Lowest accepted accuracy on the held-out weeks.
   * @default 0.75
   */
  readonly minimumAccuracy?: number;
  /**
   * Lowest accepted macro-F1 on the held-out weeks.
   * @default 0.70
   */
  readonly minimumMacroF1?: number;
  /**
   * Lowest accepted precision of every class (a model that never predicts a class fails here).
   * @default 0.65
   */
  readonly minimumClassPrecision?: number;
  /**
   * How far the candidate's accuracy may fall below the champion's.
   * @default 0.01
   */
  readonly championAccuracyTolerance?: number;
  /**
   * How far the candidate's macro-F1 may fall below the champion's.
   * @default 0.01
   */
  readonly championMacroF1Tolerance?: number;
}

export const DEFAULT_GATE_OPTIONS: Required<GateOptions> = Object.freeze({
  minimumAccuracy: 0.75,
  minimumMacroF1: 0.7,
  minimumClassPrecision: 0.65,
  championAccuracyTolerance: 0.01,
  championMacroF1Tolerance: 0.01,
});

/** Which rule a check applies. */
export type GateCheckKind = 'floor' | 'champion';

/** One comparison the gate made: `actual >= threshold`. */
export interface GateCheck {
  /** Stable identifier, e.g. `accuracy-floor`, `precision-floor:LA`, `macro-f1-vs-champion`. */
  readonly id: string;
  readonly kind: GateCheckKind;
  /** The metric compared: `accuracy`, `macroF1`, or `precision:<class>`. */
  readonly metric: string;
  readonly actual: number;
  /** The lowest passing value (for a champion check: the champion's value minus the tolerance). */
  readonly threshold: number;
  readonly passed: boolean;
  /** One human sentence, e.g. `accuracy 0.7312 is below the floor 0.75`. */
  readonly message: string;
}

export interface GateResult {
  readonly passed: boolean;
  /** The message of every failing check, in check order; empty when passed. */
  readonly reasons: readonly string[];
  readonly checks: readonly GateCheck[];
  /** The thresholds applied (defaults filled in). */
  readonly options: Required<GateOptions>;
  /** Whether a champion was compared against. */
  readonly comparedWithChampion: boolean;
}

/** The candidate failed the gate; `reasons` lists every failing check (the CLI prints them and exits 1). */
export class GateFailedError extends RetailMlopsError {
  readonly reasons: readonly string[];
  readonly checks: readonly GateCheck[];

  constructor(result: Pick<GateResult, 'reasons' | 'checks'>) {
    super('GATE_FAILED', `the model failed the gate: ${result.reasons.join('; ')}`);
    this.reasons = result.reasons;
    this.checks = result.checks;
  }
}

/**
 * Fills in the defaults and validates the thresholds (every value a number in [0, 1]); all problems
 * are reported at once.
 * @throws InvalidOptionsError
 */
export function resolveGateOptions(options: GateOptions = {}): Required<GateOptions> {
  const resolved: { -readonly [name in keyof GateOptions]-?: number } = { ...DEFAULT_GATE_OPTIONS };
  const problems = new ProblemCollector('gate options');
  const known = new Set(Object.keys(DEFAULT_GATE_OPTIONS));
  for (const [name, value] of Object.entries(options) as [keyof GateOptions, unknown][]) {
    if (!known.has(name)) {
      problems.check(false, `unknown option '${name}' (known: ${[...known].join(', ')})`);
      continue;
    }
    if (value === undefined) continue;
    const valid = typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
    problems.check(valid, `${name} must be a number between 0 and 1, got ${JSON.stringify(value)}`);
    if (valid) resolved[name] = value;
  }
  problems.throwIfAny();
  return Object.freeze(resolved);
}

const format = (value: number): string => value.toFixed(4);

/** Absorbs floating-point noise in `champion − tolerance`, so a value exactly on a threshold passes. */
const COMPARISON_SLACK = 1e-12;

/**
 * Applies the gate to a candidate's metrics. Pass the champion's metrics (evaluated on the same
 * held-out rows as the candidate) to also apply the not-worse-than-the-champion rule; without a
 * champion (the first model) only the floor applies.
 * @throws InvalidOptionsError when the options are invalid
 */
export function evaluateGate(
  candidate: Pick<EvaluationMetrics, 'accuracy' | 'macroF1' | 'perClass'>,
  champion?: Pick<EvaluationMetrics, 'accuracy' | 'macroF1'>,
  options: GateOptions = {},
): GateResult {
  const thresholds = resolveGateOptions(options);
  const checks: GateCheck[] = [];
  const floor = (id: string, metric: string, label: string, actual: number, threshold: number): void => {
    const passed = actual >= threshold - COMPARISON_SLACK;
    const message = passed ? `${label} ${format(actual)} meets the floor ${format(threshold)}` : `${label} ${format(actual)} is below the floor ${format(threshold)}`;
    checks.push({ id, kind: 'floor', metric, actual, threshold, passed, message });
  };

  floor('accuracy-floor', 'accuracy', 'accuracy', candidate.accuracy, thresholds.minimumAccuracy);
  floor('macro-f1-floor', 'macroF1', 'macro-F1', candidate.macroF1, thresholds.minimumMacroF1);
  for (const [className, classMetrics] of Object.entries(candidate.perClass)) {
    floor(`precision-floor:${className}`, `precision:${className}`, `precision of ${className}`, classMetrics.precision, thresholds.minimumClassPrecision);
  }

  if (champion) {
    const versus = (id: string, metric: 'accuracy' | 'macroF1', label: string, tolerance: number): void => {
      const actual = candidate[metric];
      const threshold = champion[metric] - tolerance;
      const passed = actual >= threshold - COMPARISON_SLACK;
      const message = passed
        ? `${label} ${format(actual)} is within ${format(tolerance)} of the champion's ${format(champion[metric])}`
        : `${label} ${format(actual)} is worse than the champion's ${format(champion[metric])} by more than ${format(tolerance)}`;
      checks.push({ id, kind: 'champion', metric, actual, threshold, passed, message });
    };
    versus('accuracy-vs-champion', 'accuracy', 'accuracy', thresholds.championAccuracyTolerance);
    versus('macro-f1-vs-champion', 'macroF1', 'macro-F1', thresholds.championMacroF1Tolerance);
  }

  const reasons = checks.filter((check) => !check.passed).map((check) => check.message);
  return { passed: reasons.length === 0, reasons, checks, options: thresholds, comparedWithChampion: champion !== undefined };
}

/** Throws {@link GateFailedError} (listing every reason) unless the gate passed. */
export function assertGatePassed(result: GateResult): void {
  if (!result.passed) throw new GateFailedError(result);
}
