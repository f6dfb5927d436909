/**
 * A real served model for the server's tests and benchmark: the real LGSR sample ingested, features
 * fitted on the first weeks (out-of-fold), a logistic regression trained and exported to ONNX, and
 * registered in a local registry with its `feature-statistics.json`, exactly as `train` registers.
 * Beside it, on the same matrix, gradient-boosted trees with the benchmarks' settings (the model the
 * FastAPI + XGBoost baseline of bench/fastapi/ mirrors), and that training matrix on disk.
 *
 * Building takes a few seconds, so the result is cached in the temp directory under a key made of
 * the core sources and the sample files: every test file (and the benchmark) of a run reuses it, and
 * the next run too while nothing changed. Callers get their own copy of the registry to change.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, SAMPLE_FILES } from './paths';
import { writeMatrix } from '../../bench/training-matrix';
import { BENCH_BOOSTING_SETTINGS } from '../../bench/xgboost';
import { computeMetrics } from '../../core/evaluation/metrics';
import { VOCABULARIES, type BasketBatch } from '../../core/features/basket-batch';
import { FEATURE_COUNT, FEATURE_SPEC } from '../../core/features/spec';
import { statisticsFromDocument, statisticsToDocument, type FeatureStatistics, type FeatureStatisticsDocument } from '../../core/features/statistics';
import { heldOutFeatures, outOfFoldFeatures } from '../../core/features/training-matrix';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { ingest } from '../../core/lake/ingest';
import { Lake } from '../../core/lake/lake';
import { exportOnnx } from '../../core/onnx/export';
import type { OnnxModelMetadata } from '../../core/onnx/metadata';
import type { ModelRegistry } from '../../core/registry/port';
import { ARTIFACT_NAMES, type ModelLineage } from '../../core/registry/types';
import { PRICE_SENSITIVITY_CLASSES, type Basket } from '../../core/schema/lgsr';
import { trainLogisticRegression } from '../../core/training/logistic-regression';
import type { LinearModelIR, ModelIR } from '../../core/training/model';
import { modelProbabilities } from '../../core/training/model-outputs';
import { trainGradientBoostedTrees } from '../../core/training/trees/gradient-boosting';
import { createLocalRegistry } from '../../providers/local/registry';

/** What the cache holds besides the registry. */
interface CachedFixture {
  readonly versions: FixtureVersions;
  readonly models: { readonly production: SerializedLinearModel; readonly candidate: SerializedLinearModel };
  readonly trainingWeeks: readonly number[];
  readonly evaluationWeeks: readonly number[];
  readonly baskets: readonly Basket[];
  readonly labels: readonly number[];
}

interface SerializedLinearModel {
  readonly classes: readonly string[];
  readonly featureCount: number;
  readonly coefficients: readonly number[];
  readonly intercepts: readonly number[];
}

/** The registered versions; all three ship the same statistics. */
export interface FixtureVersions {
  /** Logistic regression, alias `production`. */
  readonly production: string;
  /** Another logistic regression, alias `candidate`. */
  readonly candidate: string;
  /** Gradient-boosted trees (BENCH_BOOSTING_SETTINGS), alias `gbdt`. */
  readonly gbdt: string;
}

export interface ServedModelFixture {
  /** A fresh copy of the registry: `production`, `candidate` and `gbdt` aliases (see FixtureVersions). */
  readonly registryRoot: string;
  readonly registry: ModelRegistry;
  readonly versions: FixtureVersions;
  readonly models: { readonly production: LinearModelIR; readonly candidate: LinearModelIR };
  /** The statistics both models ship with. */
  readonly statistics: FeatureStatistics;
  /** Held-out baskets (the last sample week) as the API takes them, with their true class index (-1 for XX). */
  readonly baskets: readonly Basket[];
  readonly labels: readonly number[];
  /**
   * The matrix every version was trained on (bench/training-matrix.ts's layout, all rows train), in
   * the shared cache: read it, never change it.
   */
  readonly trainingMatrixDirectory: string;
  /** Removes the copy. */
  readonly remove: () => void;
}

/** How many held-out baskets the fixture keeps (enough for parity tests and the benchmark's variety). */
const KEPT_BASKETS = 3000;
/** The training matrix's folder in the cache. */
const TRAINING_MATRIX = 'training-matrix';

/** A fresh copy of the cached served-model registry (built on first use). */
export async function servedModelFixture(): Promise<ServedModelFixture> {
  const cacheDirectory = await ensureCache();
  const cached = JSON.parse(readFileSync(path.join(cacheDirectory, 'fixture.json'), 'utf8')) as CachedFixture;
  const copy = path.join(os.tmpdir(), `retail-mlops-served-registry-${randomBytes(6).toString('hex')}`);
  cpSync(path.join(cacheDirectory, 'registry'), copy, { recursive: true });
  const registry = createLocalRegistry({ root: copy });
  const document = JSON.parse(Buffer.from(await registry.getArtifact(cached.versions.production, ARTIFACT_NAMES.featureStatistics)).toString('utf8')) as FeatureStatisticsDocument;
  return {
    registryRoot: copy,
    registry,
    versions: cached.versions,
    models: { production: deserializeModel(cached.models.production), candidate: deserializeModel(cached.models.candidate) },
    statistics: statisticsFromDocument(document),
    baskets: cached.baskets,
    labels: cached.labels,
    trainingMatrixDirectory: path.join(cacheDirectory, TRAINING_MATRIX),
    remove: () => rmSync(copy, { recursive: true, force: true }),
  };
}

/** Registers a model version the way `train` does (ONNX bytes + the feature statistics artifact). */
export async function registerServedModel(
  registry: ModelRegistry,
  input: {
    readonly model: Uint8Array;
    readonly statistics: FeatureStatistics | string;
    readonly seed?: string;
    readonly featureSpecHash?: string;
  },
): Promise<string> {
  const content = typeof input.statistics === 'string' ? input.statistics : JSON.stringify(statisticsToDocument(input.statistics));
  const lineage: ModelLineage = {
    lakeVersion: '1',
    inputFiles: [{ path: `raw/${input.seed ?? 'sample'}.csv`, sha256: createHash('sha256').update(input.seed ?? 'sample').digest('hex') }],
    featureSpecVersion: FEATURE_SPEC.version,
    featureSpecHash: input.featureSpecHash ?? FEATURE_SPEC.hash,
    codeCommit: 'test',
    algorithm: 'lr',
    parameters: { seed: input.seed ?? 'sample' },
    trainingWeeks: [200607],
    evaluationWeeks: [200611],
  };
  const metrics = computeMetrics(Int32Array.of(0, 1, 2), Float32Array.of(0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8), PRICE_SENSITIVITY_CLASSES);
  const { version } = await registry.register({
    model: input.model,
    metrics,
    lineage,
    artifacts: [{ name: ARTIFACT_NAMES.featureStatistics, content }],
    createdBy: 'tests',
  });
  return version.id;
}

/** Export metadata for the current feature spec. */
export function exportMetadata(overrides: Partial<OnnxModelMetadata> = {}): OnnxModelMetadata {
  return { featureSpecVersion: FEATURE_SPEC.version, featureSpecHash: FEATURE_SPEC.hash, featureNames: FEATURE_SPEC.names, algorithm: 'lr', ...overrides };
}

/** Baskets of a batch in the API's shape (LGSR names and text codes), inverse of basketBatchFromBaskets. */
export function basketsFromBatch(batch: BasketBatch, rows: ArrayLike<number>): Basket[] {
  const code = (prefix: string, value: number, digits: number): string => `${prefix}${String(value).padStart(digits, '0')}`;
  const baskets: Basket[] = [];
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    const lines = [];
    for (let line = batch.lineStart[row]; line < batch.lineStart[row + 1]; line++) {
      lines.push({
        PROD_CODE: code('PRD', batch.product[line], 7),
        PROD_CODE_10: code('CL', batch.product10[line], 5),
        PROD_CODE_20: code('DEP', batch.product20[line], 5),
        PROD_CODE_30: code('G', batch.product30[line], 5),
        PROD_CODE_40: code('D', batch.product40[line], 5),
        QUANTITY: batch.quantity[line],
        SPEND: asSent(batch.spend[line]),
      });
    }
    baskets.push({
      context: {
        STORE_CODE: code('STORE', batch.storeNumber[row], 5),
        STORE_FORMAT: VOCABULARIES.storeFormat[batch.storeFormat[row] - 1],
        STORE_REGION: VOCABULARIES.storeRegion[batch.storeRegion[row] - 1],
        SHOP_WEEKDAY: batch.weekday[row],
        SHOP_HOUR: batch.hour[row],
        BASKET_TYPE: VOCABULARIES.basketType[batch.basketType[row] - 1],
        BASKET_DOMINANT_MISSION: VOCABULARIES.mission[batch.mission[row] - 1],
      },
      lines,
    });
  }
  return baskets;
}

/**
 * SPEND as a till sends it (pence: 1.36, not the float32 1.3600000143051147 gold holds); the same
 * float32 once the server reads it, so features are unchanged.
 */
function asSent(spend: number): number {
  const pence = Math.round(spend * 100) / 100;
  return Math.fround(pence) === spend ? pence : spend;
}

function deserializeModel(model: SerializedLinearModel): LinearModelIR {
  return {
    kind: 'linear',
    classes: model.classes,
    featureCount: model.featureCount,
    coefficients: Float32Array.from(model.coefficients),
    intercepts: Float32Array.from(model.intercepts),
  };
}

function serializeModel(model: LinearModelIR): SerializedLinearModel {
  const { classes, featureCount } = model;
  return { classes, featureCount, coefficients: Array.from(model.coefficients), intercepts: Array.from(model.intercepts) };
}

/** The cache key: every core source (features, training, export, ingest) and the sample files' sizes and times. */
function cacheKey(): string {
  const hash = createHash('sha256');
  const visit = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts')) hash.update(full).update(readFileSync(full));
    }
  };
  visit(path.join(REPO_ROOT, 'core'));
  hash.update(readFileSync(path.join(REPO_ROOT, 'providers/local/registry.ts')));
  hash.update(readFileSync(path.join(REPO_ROOT, 'bench/xgboost.ts')));
  hash.update(readFileSync(path.join(REPO_ROOT, 'bench/training-matrix.ts')));
  hash.update(readFileSync(__filename));
  for (const file of SAMPLE_FILES) {
    const stat = statSync(file);
    hash.update(`${file}:${stat.size}:${stat.mtimeMs}`);
  }
  return hash.digest('hex').slice(0, 16);
}

async function ensureCache(): Promise<string> {
  const directory = path.join(os.tmpdir(), `retail-mlops-served-model-${cacheKey()}`);
  if (existsSync(path.join(directory, 'fixture.json'))) return directory;
  const staging = `${directory}.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(staging, { recursive: true });
  try {
    await buildFixture(staging);
    try {
      renameSync(staging, directory);
    } catch (error) {
      // another test process finished first: use its copy
      if (!existsSync(path.join(directory, 'fixture.json'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return directory;
}

async function buildFixture(directory: string): Promise<void> {
  const lakeRoot = path.join(directory, 'lake');
  await ingest({ inputs: SAMPLE_FILES, lake: lakeRoot, threads: 1 });
  const lake = await Lake.openExisting(lakeRoot);
  const weeks = lake.weeks();
  const trainingWeeks = weeks.slice(0, -1);
  const evaluationWeeks = weeks.slice(-1);
  const { batch } = await readGoldBaskets(lake);
  const training = new Set(trainingWeeks);
  const trainRows: number[] = [];
  const evaluationRows: number[] = [];
  for (let basket = 0; basket < batch.size; basket++) {
    if (training.has(batch.week[basket])) {
      if (batch.label[basket] >= 0) trainRows.push(basket);
    } else {evaluationRows.push(basket);}
  }
  const { statistics, values } = outOfFoldFeatures(batch, trainRows);
  const labels = Int32Array.from(trainRows, (row) => batch.label[row]);
  const matrix = { rows: trainRows.length, columns: FEATURE_COUNT, values, labels };
  const production = trainLogisticRegression(matrix, PRICE_SENSITIVITY_CLASSES, { l2: 1e-4 }).model;
  const candidate = trainLogisticRegression(matrix, PRICE_SENSITIVITY_CLASSES, { l2: 3e-3 }).model;
  const boosted = trainGradientBoostedTrees(matrix, PRICE_SENSITIVITY_CLASSES, BENCH_BOOSTING_SETTINGS).model;
  mkdirSync(path.join(directory, TRAINING_MATRIX));
  writeMatrix(path.join(directory, TRAINING_MATRIX), { ...matrix, classes: [...PRICE_SENSITIVITY_CLASSES], trainRows: matrix.rows }, FEATURE_SPEC.names);

  const registry = createLocalRegistry({ root: path.join(directory, 'registry') });
  const register = async (model: ModelIR, seed: string): Promise<string> => {
    const algorithm = model.kind === 'linear' ? 'lr' : 'gbdt';
    const evaluationFeatures = heldOutFeatures(statistics, batch, evaluationRows);
    const scored = evaluationRows.map((row, index) => ({ label: batch.label[row], index })).filter((entry) => entry.label >= 0);
    const probabilities = modelProbabilities(model, evaluationFeatures, evaluationRows.length);
    const keptProbabilities = new Float32Array(scored.length * 3);
    scored.forEach((entry, position) => keptProbabilities.set(probabilities.subarray(entry.index * 3, entry.index * 3 + 3), position * 3));
    const metrics = computeMetrics(Int32Array.from(scored, (entry) => entry.label), keptProbabilities, PRICE_SENSITIVITY_CLASSES);
    const { version } = await registry.register({
      model: exportOnnx(model, exportMetadata({ algorithm })),
      metrics,
      lineage: {
        lakeVersion: String(lake.manifest.version),
        inputFiles: [{ path: 'raw/lgsr-sample', sha256: createHash('sha256').update('lgsr-sample').digest('hex') }],
        featureSpecVersion: FEATURE_SPEC.version,
        featureSpecHash: FEATURE_SPEC.hash,
        codeCommit: 'tests',
        algorithm,
        parameters: { seed },
        trainingWeeks,
        evaluationWeeks,
      },
      artifacts: [{ name: ARTIFACT_NAMES.featureStatistics, content: JSON.stringify(statisticsToDocument(statistics)) }],
      createdBy: 'tests',
    });
    return version.id;
  };
  const productionVersion = await register(production, 'production');
  const candidateVersion = await register(candidate, 'candidate');
  const boostedVersion = await register(boosted, 'gbdt');
  await registry.setAlias('production', productionVersion, { actor: 'tests', reason: 'fixture' });
  await registry.setAlias('candidate', candidateVersion, { actor: 'tests', reason: 'fixture' });
  await registry.setAlias('gbdt', boostedVersion, { actor: 'tests', reason: 'fixture' });

  const kept = evaluationRows.slice(0, KEPT_BASKETS);
  const fixture: CachedFixture = {
    versions: { production: productionVersion, candidate: candidateVersion, gbdt: boostedVersion },
    models: { production: serializeModel(production), candidate: serializeModel(candidate) },
    trainingWeeks,
    evaluationWeeks,
    baskets: basketsFromBatch(batch, kept),
    labels: kept.map((row) => batch.label[row]),
  };
  writeFileSync(path.join(directory, 'fixture.json'), JSON.stringify(fixture));
  rmSync(lakeRoot, { recursive: true, force: true });
}
