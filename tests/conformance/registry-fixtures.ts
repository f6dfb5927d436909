/**
 * Sample registrations for the registry conformance suite and its child-process workers (no vitest
 * import here: the workers run outside the test runner).
 */
import { createHash } from 'node:crypto';
import type { EvaluationMetrics } from '../../core/evaluation/metrics';
import type { RegisterInput } from '../../core/registry/types';

/** Metrics of a plausible model; `accuracy` varies the content. */
export function sampleMetrics(accuracy = 0.91): EvaluationMetrics {
  return {
    accuracy,
    macroF1: accuracy - 0.02,
    logLoss: 0.25,
    perClass: {
      LA: { precision: 0.9, recall: 0.88, f1: 0.89, support: 877 },
      MM: { precision: 0.92, recall: 0.93, f1: 0.925, support: 1912 },
      UM: { precision: 0.89, recall: 0.9, f1: 0.895, support: 910 },
    },
    confusionMatrix: {
      labels: ['LA', 'MM', 'UM'],
      matrix: [
        [772, 100, 5],
        [70, 1778, 64],
        [6, 85, 819],
      ],
    },
    rows: 3699,
    excluded: { XX: 61 },
  };
}

/**
 * A registration whose content is determined by `seed`: the same seed gives identical content
 * (and so the same version), different seeds give different model bytes.
 */
export function sampleRegistration(seed: string | number, overrides: Partial<RegisterInput> = {}): RegisterInput {
  const model = new Uint8Array(createHash('sha256').update(`model:${seed}`).digest().toString('hex').repeat(8).split('').map((character) => character.charCodeAt(0)));
  return {
    model,
    metrics: sampleMetrics(),
    lineage: {
      lakeVersion: 'lake-20240501-0001',
      inputFiles: [{ path: 'raw/lgsr-200607.csv.gz', sha256: createHash('sha256').update('input').digest('hex') }],
      featureSpecVersion: '1',
      featureSpecHash: createHash('sha256').update('features').digest('hex'),
      codeCommit: '9ccc1a5',
      algorithm: 'gbdt',
      parameters: { rounds: 200, depth: 6, learningRate: 0.1, seed: 42 },
      trainingWeeks: [200607, 200608, 200609],
      evaluationWeeks: [200610],
    },
    artifacts: [
      { name: 'feature-statistics.json', content: JSON.stringify({ seed: String(seed), products: 5000 }) },
      { name: 'report.html', content: `<!DOCTYPE html><title>report ${seed}</title>` },
    ],
    createdBy: 'conformance-suite',
    ...overrides,
  };
}
