/**
 * Checks of numeric and enumerated options, each recording a readable problem in a ProblemCollector
 * so a trainer can report every bad option at once.
 */
import type { ProblemCollector } from '../../errors';

/** An integer in [minimum, maximum] (or undefined, meaning the default). */
export function checkIntegerOption(
  problems: ProblemCollector,
  name: string,
  value: number | undefined,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  problems.check(
    Number.isInteger(value) && value >= minimum && value <= maximum,
    `${name} must be an integer from ${minimum}${maximum === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${maximum}`} (got ${value})`,
  );
}

/** A finite number ≥ minimum (or undefined). */
export function checkNumberOption(problems: ProblemCollector, name: string, value: number | undefined, minimum: number): void {
  if (value === undefined) return;
  problems.check(Number.isFinite(value) && value >= minimum, `${name} must be a finite number ≥ ${minimum} (got ${value})`);
}

/** A fraction in (0, 1] (or undefined). */
export function checkFractionOption(problems: ProblemCollector, name: string, value: number | undefined): void {
  if (value === undefined) return;
  problems.check(Number.isFinite(value) && value > 0 && value <= 1, `${name} must be in (0, 1] (got ${value})`);
}

/** One of the allowed strings (or undefined). */
export function checkChoiceOption(problems: ProblemCollector, name: string, value: string | undefined, allowed: readonly string[]): void {
  if (value === undefined) return;
  problems.check(allowed.includes(value), `${name} must be one of ${allowed.join(', ')} (got ${String(value)})`);
}

/** `0 = no limit` → Infinity. */
export function limitOrInfinity(value: number): number {
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}
