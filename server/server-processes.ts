/**
 * `serve --processes <n>`: n server processes sharing one port (node:cluster). Each is a whole server
 * — HTTP, API keys, its own prediction workers, its own prediction log — on its own event loop, so
 * n cores parse, featurise and score single-basket requests side by side, instead of one main thread
 * handing every request to worker threads (README, "Where a prediction request's time goes").
 *
 * The primary process serves nothing itself; it
 * - starts the first process, and the others once that one served (a model that cannot load fails
 *   once, with one message, and the command exits with that process's exit code);
 * - relays what the processes need from each other: an admin reload in one process reloads the
 *   others before its answer goes out, and `/metrics` in any process renders every process's metrics
 *   aggregated (prom-client's AggregatorRegistry: counters and histograms summed, gauges as declared);
 * - on SIGTERM or SIGINT tells every process to drain (a second signal: to cut connections), and
 *   kills what is still running after the shutdown timeout;
 * - replaces a process that exits on its own while serving (with a growing pause while they keep
 *   failing), so one crash does not halve the capacity for good.
 *
 * A process learns it is a member from node:cluster (`cluster.isWorker`) and its place from
 * RETAIL_MLOPS_PROCESS_INDEX (1…n): the prediction log spools below `<spool>/process-<index>`.
 * Nothing runs on import.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { ServerLogger } from './logger';
import { RetailMlopsError } from '../core/errors';

/** The variable that gives a member process its place in the group (1…n). */
export const PROCESS_INDEX_VARIABLE = 'RETAIL_MLOPS_PROCESS_INDEX';
/** The group's size, as members see it. */
const PROCESS_COUNT_VARIABLE = 'RETAIL_MLOPS_PROCESS_COUNT';

/** What a member reports once it serves. */
export interface MemberReady {
  readonly url: string;
  readonly port: number;
  readonly reference: string;
  readonly modelVersion: string;
}

/** Messages between the primary and its members (over the cluster IPC channel). */
type MemberMessage =
  | { readonly type: 'retail-mlops:ready'; readonly summary: MemberReady }
  | { readonly type: 'retail-mlops:reload-others'; readonly id: number }
  | { readonly type: 'retail-mlops:reloaded'; readonly id: number; readonly error?: string }
  | { readonly type: 'retail-mlops:metrics'; readonly id: number };
type PrimaryMessage =
  | { readonly type: 'retail-mlops:stop'; readonly now: boolean }
  | { readonly type: 'retail-mlops:reload'; readonly id: number }
  | { readonly type: 'retail-mlops:others-reloaded'; readonly id: number; readonly errors: readonly string[] }
  | { readonly type: 'retail-mlops:metrics-text'; readonly id: number; readonly text?: string; readonly error?: string };

/** What a server in a process group asks of the others (see StartServerOptions.processGroup). */
export interface ProcessGroupPeers {
  /** This process's place (1…n) and the group's size. */
  readonly index: number;
  readonly size: number;
  /** Every process's metrics, aggregated (Prometheus text). */
  metrics(): Promise<string>;
  /** Has every other process reload its model; resolves once they did. @throws ProcessGroupError when one could not */
  reloadOthers(): Promise<void>;
}

/** A member process's side of the group. */
export interface ProcessGroupMember extends ProcessGroupPeers {
  /** The registry the primary gathers this process's metrics from (the server's). */
  shareMetrics(registry: Registry): void;
  /** Says the server serves (the primary prints the command's summary once every process did). */
  ready(summary: MemberReady): void;
  /** What to do when the primary says stop (`now`: a second signal, cut connections). */
  onStop(handler: (now: boolean) => void): void;
  /** What to do when another process asks for a reload (an admin reload there). */
  onReload(handler: () => Promise<void>): void;
}

/** The process group could not do what was asked. */
export class ProcessGroupError extends RetailMlopsError {
  constructor(message: string) {
    super('PROCESS_GROUP', message);
  }
}

/** How long a member waits for the others' metrics or reloads. */
const PEER_TIMEOUT_MS = 30_000;

/** This process's membership, when it was started by superviseServerProcesses (else undefined). */
export function joinProcessGroup(): ProcessGroupMember | undefined {
  if (!cluster.isWorker || !process.send) return undefined;
  const index = Number(process.env[PROCESS_INDEX_VARIABLE] ?? '0');
  const size = Number(process.env[PROCESS_COUNT_VARIABLE] ?? '0');
  const send = (message: MemberMessage): void => {
    if (process.connected) process.send!(message);
  };
  let nextId = 1;
  const waiting = new Map<number, { resolve: (message: PrimaryMessage) => void; timer: NodeJS.Timeout }>();
  const ask = (message: (id: number) => MemberMessage, what: string): Promise<PrimaryMessage> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new ProcessGroupError(`the other server processes did not answer ${what} within ${PEER_TIMEOUT_MS / 1000} s`));
      }, PEER_TIMEOUT_MS);
      waiting.set(id, { resolve, timer });
      send(message(id));
    });
  let stopHandler: ((now: boolean) => void) | undefined;
  /** A stop that came before the server could take it (it was still starting). */
  let stopBeforeHandler: boolean | undefined;
  let reloadHandler: (() => Promise<void>) | undefined;
  process.on('message', (message: PrimaryMessage) => {
    switch (message.type) {
      case 'retail-mlops:stop':
        if (stopHandler) stopHandler(message.now);
        else stopBeforeHandler = (stopBeforeHandler ?? false) || message.now;
        break;
      case 'retail-mlops:reload':
        void (reloadHandler ?? (async () => undefined))().then(
          () => send({ type: 'retail-mlops:reloaded', id: message.id }),
          (error: unknown) => send({ type: 'retail-mlops:reloaded', id: message.id, error: error instanceof Error ? error.message : String(error) }),
        );
        break;
      case 'retail-mlops:others-reloaded':
      case 'retail-mlops:metrics-text': {
        const pending = waiting.get(message.id);
        if (pending) {
          waiting.delete(message.id);
          clearTimeout(pending.timer);
          pending.resolve(message);
        }
        break;
      }
    }
  });
  // the primary drains the group: signals sent to the whole process group (Ctrl-C) are its to handle
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => undefined);
  return {
    index,
    size,
    shareMetrics(registry) {
      // prom-client answers the primary's requests for this process's metrics from this registry
      AggregatorRegistry.setRegistries([registry]);
      new AggregatorRegistry();
    },
    ready: (summary) => send({ type: 'retail-mlops:ready', summary }),
    onStop(handler) {
      stopHandler = handler;
      if (stopBeforeHandler !== undefined) handler(stopBeforeHandler);
    },
    onReload: (handler) => (reloadHandler = handler),
    async metrics() {
      const answer = await ask((id) => ({ type: 'retail-mlops:metrics', id }), 'for their metrics');
      if (answer.type !== 'retail-mlops:metrics-text' || answer.text === undefined) {
        throw new ProcessGroupError(`the server processes' metrics could not be gathered: ${answer.type === 'retail-mlops:metrics-text' ? answer.error : answer.type}`);
      }
      return answer.text;
    },
    async reloadOthers() {
      if (size <= 1) return;
      const answer = await ask((id) => ({ type: 'retail-mlops:reload-others', id }), 'the reload');
      const errors = answer.type === 'retail-mlops:others-reloaded' ? answer.errors : [answer.type];
      if (errors.length > 0) throw new ProcessGroupError(`the other server processes could not reload: ${errors.join('; ')}`);
    },
  };
}

export interface ServerProcessesOptions {
  /** How many server processes (≥ 2). */
  readonly processes: number;
  /** How long after the stop a process may take before it is killed. @default 30_000 */
  readonly stopTimeoutMs?: number;
  /** Where the primary logs (the members log on their own stderr). */
  readonly logger: ServerLogger;
}

export interface ServerProcesses {
  /** What the first process reported once every process served. */
  readonly summary: MemberReady;
  /** Resolves with the exit code once every process stopped (0 after a clean stop). */
  readonly closed: Promise<number>;
  /** The processes' ids (pids), in index order. */
  pids(): readonly number[];
  /** Drains and stops every process (`now`: cut connections). */
  stop(now?: boolean): void;
}

/** A member that failed before it served: the command exits with its code (it printed why). */
export class ServerProcessFailedError extends RetailMlopsError {
  constructor(readonly index: number, readonly exitCode: number) {
    super('SERVER_PROCESS_FAILED', `server process ${index} exited with code ${exitCode} before it served`);
  }
}

/** The pause before a process that exited on its own is replaced: doubles while replacements keep failing within a minute. */
const RESTART_PAUSE_MS = { first: 500, max: 30_000, stable: 60_000 };

/**
 * Runs in the primary process (the one `serve` started): forks the members (the same command line,
 * node:cluster's default) and serves them. Resolves once every one of them served.
 * @throws ServerProcessFailedError when a member exits before it served (the others are stopped)
 */
export async function superviseServerProcesses(options: ServerProcessesOptions): Promise<ServerProcesses> {
  const { processes, logger } = options;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const members = new Map<number, Worker>();
  const startedAt = new Map<number, number>();
  const restartPause = new Map<number, number>();
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  let exitCode = 0;
  let reloadIds = 1;
  const reloads = new Map<number, { from: Worker; memberId: number; pending: number; errors: string[] }>();

  const send = (worker: Worker, message: PrimaryMessage): void => {
    if (worker.isConnected()) worker.send(message);
  };
  const finishReload = (id: number): void => {
    const reload = reloads.get(id);
    if (reload && reload.pending === 0) {
      reloads.delete(id);
      send(reload.from, { type: 'retail-mlops:others-reloaded', id: reload.memberId, errors: reload.errors });
    }
  };

  const onMessage = (worker: Worker, index: number, message: MemberMessage): void => {
    switch (message.type) {
      case 'retail-mlops:reload-others': {
        const id = reloadIds++;
        const others = [...members.entries()].filter(([other]) => other !== index);
        reloads.set(id, { from: worker, memberId: message.id, pending: others.length, errors: [] });
        for (const [, other] of others) send(other, { type: 'retail-mlops:reload', id });
        finishReload(id);
        break;
      }
      case 'retail-mlops:reloaded': {
        const reload = reloads.get(message.id);
        if (reload) {
          reload.pending--;
          if (message.error) reload.errors.push(`process ${index}: ${message.error}`);
          finishReload(message.id);
        }
        break;
      }
      case 'retail-mlops:metrics':
        aggregator.clusterMetrics().then(
          (text) => send(worker, { type: 'retail-mlops:metrics-text', id: message.id, text }),
          (error: Error) => send(worker, { type: 'retail-mlops:metrics-text', id: message.id, error: error.message }),
        );
        break;
    }
  };

  /** Forks member `index`; resolves once it served, rejects when it exits first. */
  const fork = (index: number): Promise<MemberReady> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ [PROCESS_INDEX_VARIABLE]: String(index), [PROCESS_COUNT_VARIABLE]: String(processes) });
      members.set(index, worker);
      startedAt.set(index, Date.now());
      let served = false;
      worker.on('message', (message: MemberMessage) => {
        if (message.type === 'retail-mlops:ready' && !served) {
          served = true;
          resolve(message.summary);
        } else {
          onMessage(worker, index, message);
        }
      });
      worker.on('exit', (code, signal) => {
        if (members.get(index) === worker) members.delete(index);
        // a reload waiting for this process is not waited for any longer
        for (const [id, reload] of reloads) {
          if (reload.from === worker) reloads.delete(id);
        }
        const status = code ?? (signal ? 128 : 1);
        if (!served) {
          reject(new ServerProcessFailedError(index, status));
        } else if (!stopping) {
          replace(index, code, signal);
        }
        if (stopping && members.size === 0) resolveClosed(exitCode);
      });
    });

  const replace = (index: number, code: number | null, signal: string | null): void => {
    const ranFor = Date.now() - (startedAt.get(index) ?? 0);
    const pause = ranFor > RESTART_PAUSE_MS.stable ? RESTART_PAUSE_MS.first : Math.min(RESTART_PAUSE_MS.max, (restartPause.get(index) ?? RESTART_PAUSE_MS.first / 2) * 2);
    restartPause.set(index, pause);
    logger.log('error', 'server.process-exited', { process: index, code, signal, replacedInMs: pause });
    setTimeout(() => {
      if (stopping) return;
      fork(index).then(
        (summary) => logger.log('info', 'server.process-replaced', { process: index, modelVersion: summary.modelVersion }),
        (error: Error) => logger.log('error', 'server.process-replace-failed', { process: index, error: error.message }),
      );
    }, pause).unref();
  };

  let killTimer: NodeJS.Timeout | undefined;
  const stop = (now = false): void => {
    if (!stopping) {
      stopping = true;
      killTimer = setTimeout(() => {
        for (const [index, worker] of members) {
          logger.log('error', 'server.process-killed', { process: index, afterMs: stopTimeoutMs });
          exitCode = 1;
          worker.process.kill('SIGKILL');
        }
      }, stopTimeoutMs);
      killTimer.unref();
      if (members.size === 0) resolveClosed(exitCode);
    }
    for (const worker of members.values()) send(worker, { type: 'retail-mlops:stop', now });
  };
  void closed.then(() => clearTimeout(killTimer));

  // SIGTERM and SIGINT drain the group; a second one cuts connections
  const signalHandlers: [NodeJS.Signals, () => void][] = (['SIGTERM', 'SIGINT'] as const).map((signal) => [
    signal,
    () => {
      logger.log(stopping ? 'warn' : 'info', stopping ? 'server.forced-shutdown' : 'server.signal', { signal, processes: members.size });
      stop(stopping);
    },
  ]);
  for (const [signal, handler] of signalHandlers) process.on(signal, handler);
  void closed.then(() => signalHandlers.forEach(([signal, handler]) => process.off(signal, handler)));

  try {
    // the first one alone: a model or a registry that fails, fails once
    const summary = await fork(1);
    await Promise.all(Array.from({ length: processes - 1 }, (_, offset) => fork(offset + 2)));
    logger.log('info', 'server.processes', { processes, pids: [...members.values()].map((worker) => worker.process.pid) });
    return {
      summary,
      closed,
      stop,
      pids: () => [...members.entries()].sort(([a], [b]) => a - b).map(([, worker]) => worker.process.pid ?? 0),
    };
  } catch (error) {
    stop(false);
    await closed;
    throw error;
  }
}
