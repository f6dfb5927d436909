/**
 * The model source of the server: a model registry and the pinned reference (an alias such as
 * `production`, a version id, or `#n`). It loads and warms the model before the server reports ready,
 * and swaps models without failing a request: a new version is loaded, checked and warmed beside the
 * one serving, then becomes current in one assignment; the old one finishes what it has queued and
 * stops. A model that fails any check is refused and the current one keeps serving.
 *
 * Swaps happen when the pinned alias moves (the registry is polled) and on `reload()` (the
 * authenticated `POST /admin/reload`). Reloads run one at a time.
 */
import { ProblemCollector } from '../../core/errors';
import { SCORING_ENGINES, type ScoringEngine } from '../../core/onnx/row-scorer';
import { parseReference } from '../../core/registry/identity';
import type { ModelRegistry } from '../../core/registry/port';
import { ModelNotReadyError, ModelRefusedError, ServiceClosingError } from '../errors';
import type { CompletedBatch } from '../inference/micro-batcher';
import { silentLogger, type ServerLogger } from '../logger';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../schemas';
import { ServedModel, type InferenceSettings } from './served-model';

export interface ModelServiceOptions {
  readonly registry: ModelRegistry;
  /**
   * What to serve: an alias (`production`), a version id (`v-3f2a9c01b7de`) or a sequence (`#7`).
   * @default 'production'
   */
  readonly reference?: string;
  /**
   * How often to ask the registry where an alias points (a version id or `#n` never moves, so it is
   * not polled); 0 turns polling off.
   * @default 30_000
   */
  readonly pollIntervalMs?: number;
  /**
   * Prediction worker threads per model: each parses, validates and featurizes request bodies and
   * runs ONNX Runtime, so the main thread only does HTTP. On 2 cores, 2 workers: the per-basket work
   * (JSON, validation, features) then uses both cores while the main thread waits on sockets.
   * @default 2
   */
  readonly inferenceWorkers?: number;
  /**
   * ONNX Runtime intra-op threads per session. 1 on purpose: the models are small (a linear layer or
   * shallow trees over ~70 features), so a run of a few hundred rows takes tens of microseconds and a
   * thread pool costs more in hand-offs and spinning than it gains; it would also compete with the
   * workers and the main thread for the 2 cores. Throughput comes from batching and from the workers,
   * not from threads inside one run.
   * @default 1
   */
  readonly intraOpThreads?: number;
  /** ONNX Runtime inter-op threads per session (sequential execution: only 1 is used). @default 1 */
  readonly interOpThreads?: number;
  /** Body bytes merged into one worker batch at most (one bigger request travels alone). @default 1_048_576 */
  readonly maxBatchBytes?: number;
  /** Requests queued or running before new ones get 503 + Retry-After. @default 4096 */
  readonly maxQueuedRequests?: number;
  /** Body bytes queued or running before new requests get 503 + Retry-After. @default 134_217_728 (128 MiB) */
  readonly maxQueuedBytes?: number;
  /** Batches in flight per worker (2: one computing, the next already delivered). @default 2 */
  readonly maxInFlightBatchesPerWorker?: number;
  /**
   * The prediction workers' scoring engine: `auto` scores tree ensembles and linear classifiers with
   * a compiled engine, checked against ONNX Runtime on the warm-up and first requests (it gives way to
   * ONNX Runtime where they differ); `onnxruntime` uses ONNX Runtime only. @default 'auto'
   */
  readonly scoringEngine?: ScoringEngine;
  /**
   * Load shedding: a request is refused at once (503 overloaded + Retry-After) when the work queued
   * ahead of it is expected to take the workers longer than this, so that accepted requests are
   * answered within it rather than everyone waiting longer.
   * @default 100
   */
  readonly latencyBudgetMs?: number;
  /** Lines per basket and baskets per batch request. @default DEFAULT_REQUEST_LIMITS (200, 10_000) */
  readonly requestLimits?: Partial<RequestLimits>;
  /** @default silentLogger */
  readonly logger?: ServerLogger;
  /** Monotonic milliseconds (deadlines, durations). @default performance.now */
  readonly monotonicNow?: () => number;
}

/** What a reload did. */
export interface ReloadOutcome {
  /** False when the reference still resolves to the version being served. */
  readonly changed: boolean;
  readonly modelVersion: string;
  readonly previousVersion: string | null;
  readonly reference: string;
}

export type ReloadTrigger = 'start' | 'poll' | 'admin' | 'recovery';

/** What the service tells its listeners (metrics, logs, the prediction log). */
export interface ModelServiceListener {
  /** A model became current. */
  onModelLoaded?(model: ServedModel, previous: ServedModel | undefined, trigger: ReloadTrigger): void;
  /** A model was refused; the current one (if any) keeps serving. */
  onModelRefused?(error: ModelRefusedError, trigger: ReloadTrigger): void;
  /** One inference run completed. */
  onPredictions?(model: ServedModel, batch: CompletedBatch): void;
}

export class ModelService {
  readonly reference: string;
  private readonly registry: ModelRegistry;
  private readonly pollIntervalMs: number;
  private readonly settings: InferenceSettings;
  private readonly logger: ServerLogger;
  private readonly monotonicNow: () => number;
  private readonly listeners = new Set<ModelServiceListener>();
  private currentModel: ServedModel | undefined;
  private readonly retiring = new Set<Promise<void>>();
  private reloading: Promise<ReloadOutcome> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** The last version refused by a poll (polls do not retry it; an admin reload does). */
  private refusedVersion: string | undefined;
  /** What the reload in flight does: a poll (skips refused versions) or a full reload. */
  private reloadingKind: 'poll' | 'full' | undefined;
  private closing = false;

  /**
   * Validates the options (every problem at once); loads nothing until `start()`.
   * @throws InvalidOptionsError
   */
  constructor(options: ModelServiceOptions) {
    const reference = options.reference ?? 'production';
    const pollIntervalMs = options.pollIntervalMs ?? 30_000;
    const settings: InferenceSettings = {
      workers: options.inferenceWorkers ?? 2,
      intraOpThreads: options.intraOpThreads ?? 1,
      interOpThreads: options.interOpThreads ?? 1,
      maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024,
      maxQueuedRequests: options.maxQueuedRequests ?? 4096,
      maxQueuedBytes: options.maxQueuedBytes ?? 128 * 1024 * 1024,
      maxInFlightBatchesPerWorker: options.maxInFlightBatchesPerWorker ?? 2,
      latencyBudgetMs: options.latencyBudgetMs ?? 100,
      limits: { ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits },
      engine: options.scoringEngine ?? 'auto',
    };
    const problems = new ProblemCollector('model service options');
    problems.check(typeof options.registry?.get === 'function', 'registry must be a ModelRegistry');
    let referenceValid = true;
    try {
      parseReference(reference);
    } catch {
      referenceValid = false;
    }
    problems.check(referenceValid, `reference ${JSON.stringify(reference)} must be an alias, a version id (v-<12 hex>) or #<sequence>`);
    problems.check(Number.isInteger(pollIntervalMs) && pollIntervalMs >= 0, `pollIntervalMs must be an integer ≥ 0, got ${pollIntervalMs}`);
    problems.check(SCORING_ENGINES.includes(settings.engine!), `scoringEngine must be one of ${SCORING_ENGINES.join(', ')}, got ${JSON.stringify(settings.engine)}`);
    const bounded: [string, number, number][] = [
      ['inferenceWorkers', settings.workers, 64],
      ['intraOpThreads', settings.intraOpThreads, 256],
      ['interOpThreads', settings.interOpThreads, 256],
      ['maxBatchBytes', settings.maxBatchBytes, 1 << 30],
      ['maxQueuedRequests', settings.maxQueuedRequests, 10_000_000],
      ['maxQueuedBytes', settings.maxQueuedBytes, 2 ** 40],
      ['maxInFlightBatchesPerWorker', settings.maxInFlightBatchesPerWorker, 64],
      ['latencyBudgetMs', settings.latencyBudgetMs, 3_600_000],
      ['requestLimits.maxLinesPerBasket', settings.limits.maxLinesPerBasket, 100_000],
      ['requestLimits.maxBasketsPerBatch', settings.limits.maxBasketsPerBatch, 1_000_000],
    ];
    for (const [name, value, maximum] of bounded) {
      problems.check(Number.isInteger(value) && value >= 1 && value <= maximum, `${name} must be an integer in 1…${maximum}, got ${value}`);
    }
    problems.throwIfAny();
    this.registry = options.registry;
    this.reference = reference;
    this.pollIntervalMs = pollIntervalMs;
    this.settings = settings;
    this.logger = options.logger ?? silentLogger;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  /** The request limits the workers enforce (the OpenAPI document states them). */
  get requestLimits(): RequestLimits {
    return this.settings.limits;
  }

  /** The model serving now (undefined before the first load). */
  get current(): ServedModel | undefined {
    return this.currentModel;
  }

  /** A model is loaded, warmed and healthy, and the service is not shutting down. */
  get ready(): boolean {
    return !this.closing && this.currentModel !== undefined && this.currentModel.healthy;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** The model to predict with now. @throws ServiceClosingError · ModelNotReadyError */
  model(): ServedModel {
    if (this.closing) throw new ServiceClosingError();
    const model = this.currentModel;
    if (!model) throw new ModelNotReadyError();
    return model;
  }

  subscribe(listener: ModelServiceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads the pinned model (ready afterwards) and starts polling an alias.
   * @throws ModelRefusedError when the model cannot be served
   */
  async start(): Promise<ReloadOutcome> {
    const outcome = await this.reload('start');
    this.startPolling();
    return outcome;
  }

  /**
   * Resolves the reference again and swaps to its version if it changed (or `force`, to replace a
   * failed model by a fresh copy). Concurrent calls share one reload, except that a poll never
   * stands in for a stronger call: a poll skips a version it refused before, and a forced reload
   * replaces a model a poll would keep, so those calls wait for the poll and then run their own.
   * @throws ModelRefusedError (the current model keeps serving)
   */
  reload(trigger: ReloadTrigger = 'admin', force = false): Promise<ReloadOutcome> {
    if (this.closing) return Promise.reject(new ServiceClosingError());
    if (this.reloading) {
      const weaker = this.reloadingKind === 'poll' && (trigger !== 'poll' || force);
      if (!weaker) return this.reloading;
      return this.reloading.catch(() => undefined).then(() => this.reload(trigger, force));
    }
    this.reloadingKind = trigger === 'poll' && !force ? 'poll' : 'full';
    this.reloading = this.performReload(trigger, force).finally(() => {
      this.reloading = undefined;
      this.reloadingKind = undefined;
    });
    return this.reloading;
  }

  /** Stops polling, waits for a reload in progress, drains and stops every model. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    await this.reloading?.catch(() => undefined);
    const current = this.currentModel;
    await Promise.all([current?.close(), ...this.retiring]);
  }

  private async performReload(trigger: ReloadTrigger, force: boolean): Promise<ReloadOutcome> {
    const previous = this.currentModel;
    const started = this.monotonicNow();
    let targetVersion: string | undefined;
    try {
      if (previous && !force) {
        const version = await this.registry.get(this.reference);
        targetVersion = version.id;
        if (version.id === previous.id && previous.healthy) {
          return { changed: false, modelVersion: previous.id, previousVersion: previous.id, reference: this.reference };
        }
        if (trigger === 'poll' && version.id === this.refusedVersion) {
          return { changed: false, modelVersion: previous.id, previousVersion: previous.id, reference: this.reference };
        }
      }
      const next = await ServedModel.load(this.registry, targetVersion ?? this.reference, this.settings, {
        monotonicNow: this.monotonicNow,
        onBatch: (model, batch) => {
          for (const listener of this.listeners) listener.onPredictions?.(model, batch);
        },
        onWorkerFailure: (model, error) => this.handleWorkerFailure(model, error),
      });
      if (this.closing) {
        await next.close();
        throw new ServiceClosingError();
      }
      // the swap: one assignment; requests from here on use `next`
      this.currentModel = next;
      this.refusedVersion = undefined;
      if (previous) this.retire(previous);
      this.logger.log('info', 'model.loaded', {
        trigger,
        reference: this.reference,
        modelVersion: next.id,
        previousVersion: previous?.id ?? null,
        featureSpecVersion: next.info.featureSpecVersion,
        algorithm: next.info.algorithm,
        engine: next.engine,
        ...(next.engineFallbackReason ? { engineFallbackReason: next.engineFallbackReason } : {}),
        milliseconds: Math.round(this.monotonicNow() - started),
      });
      for (const listener of this.listeners) listener.onModelLoaded?.(next, previous, trigger);
      return { changed: true, modelVersion: next.id, previousVersion: previous?.id ?? null, reference: this.reference };
    } catch (error) {
      if (error instanceof ServiceClosingError) throw error;
      const refused =
        error instanceof ModelRefusedError ? error : new ModelRefusedError(targetVersion ?? this.reference, 'fetch', (error as Error).message, { cause: error });
      this.refusedVersion = targetVersion ?? this.refusedVersion;
      this.logger.log('error', 'model.refused', {
        trigger,
        reference: this.reference,
        stage: refused.stage,
        servingVersion: previous?.id ?? null,
        error: refused,
      });
      for (const listener of this.listeners) listener.onModelRefused?.(refused, trigger);
      throw refused;
    }
  }

  private retire(model: ServedModel): void {
    const closing = model.close().catch((error: unknown) => this.logger.log('warn', 'model.close-failed', { modelVersion: model.id, error }));
    this.retiring.add(closing);
    void closing.finally(() => this.retiring.delete(closing));
  }

  private handleWorkerFailure(model: ServedModel, error: Error): void {
    this.logger.log('error', 'inference.worker-failed', { modelVersion: model.id, error });
    if (this.closing || model !== this.currentModel) return;
    this.reload('recovery', true).catch(() => undefined);
  }

  private startPolling(): void {
    if (this.pollIntervalMs === 0 || parseReference(this.reference).kind !== 'alias' || this.closing) return;
    this.pollTimer = setInterval(() => {
      this.reload('poll').catch(() => undefined);
    }, this.pollIntervalMs);
    this.pollTimer.unref();
  }
}
