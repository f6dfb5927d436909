/**
 * The hosting contracts of managed model endpoints, mounted beside the API's own routes: the same
 * container answers a Kubernetes Service (`/v1/*` with bearer keys), a SageMaker real-time endpoint
 * and an Azure ML managed online endpoint. Chosen by `RETAIL_MLOPS_HOSTING`:
 *
 * - `kubernetes` (the default): nothing is added.
 * - `sagemaker`: `GET /ping` (200, empty body, once the model is loaded and warmed; 503 before and
 *   while draining) and `POST /invocations` on port 8080 — SageMaker's contract for a custom
 *   inference container (`docker run <image> serve`). No bearer key: SageMaker Runtime authenticates
 *   the caller with IAM (SigV4) before a request reaches the container.
 * - `azureml`: `GET /healthz` (liveness) and `GET /readyz` (readiness) as the API already serves them,
 *   and `POST /score`: the routes an Azure ML environment's `inferenceConfig` names. No bearer key:
 *   the managed online endpoint checks its key or Azure ML token first.
 *
 * The scoring routes take what `/v1/predict` takes (one basket) or what `/v1/predict/batch` takes
 * (`{"baskets": [...]}`) and answer the same documents; errors are the same problem documents.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { InputError } from '../../core/errors';
import { isJsonMediaType } from '../http-rules';
import type { BodyShape } from '../inference/protocol';
import type { ModelService } from '../models/model-service';
import { ProblemException } from '../problems';
import { SERVER_VARIABLES } from '../settings';

/** Where the container runs, which decides the extra routes and whether prediction keys are required. */
export type HostingMode = 'kubernetes' | 'sagemaker' | 'azureml';

export const HOSTING_MODES: readonly HostingMode[] = ['kubernetes', 'sagemaker', 'azureml'];

/** The environment variable that picks the hosting mode (server/settings.ts). */
export const HOSTING_VARIABLE = SERVER_VARIABLES.hosting;

/** The routes and port a managed endpoint calls (the infrastructure code configures the endpoint with them). */
export interface HostingContract {
  readonly port: number;
  readonly livenessPath: string;
  readonly readinessPath: string;
  readonly scoringPath: string;
}

export const HOSTING_CONTRACTS: { readonly [M in Exclude<HostingMode, 'kubernetes'>]: HostingContract } = {
  // SageMaker: the container must listen on 8080 and answer GET /ping and POST /invocations
  sagemaker: { port: 8080, livenessPath: '/ping', readinessPath: '/ping', scoringPath: '/invocations' },
  // Azure ML custom container: any port and paths, named in the environment's inferenceConfig
  azureml: { port: 8080, livenessPath: '/healthz', readinessPath: '/readyz', scoringPath: '/score' },
};

/** The paths the hosting modes add (for the request-duration metric's `route` label). */
export const HOSTING_ROUTES: ReadonlySet<string> = new Set(['/ping', '/invocations', '/score']);

/** Reads `RETAIL_MLOPS_HOSTING` (unset or empty: kubernetes). @throws InputError naming the known modes */
export function parseHostingMode(value: string | undefined): HostingMode {
  if (value === undefined || value.trim() === '') return 'kubernetes';
  const mode = value.trim().toLowerCase();
  if (!(HOSTING_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`${HOSTING_VARIABLE} must be one of ${HOSTING_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return mode as HostingMode;
}

/** Whether the mode's scoring route is authenticated by the platform, so prediction keys are optional. */
export function platformAuthenticates(mode: HostingMode): boolean {
  return mode !== 'kubernetes';
}

export interface HostingRouteOptions {
  readonly mode: HostingMode;
  readonly models: ModelService;
  /** Largest body the scoring route reads (the batch route's limit). */
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly isDraining: () => boolean;
}

type HostingEnvironment = { Variables: { requestId: string } };

/** Adds the mode's routes to the app (whose `onError` renders the problems they throw). */
export function mountHostingRoutes<E extends HostingEnvironment>(app: OpenAPIHono<E>, options: HostingRouteOptions): void {
  if (options.mode === 'kubernetes') return;
  const contract = HOSTING_CONTRACTS[options.mode];
  const { models } = options;
  const retry = { retryAfterSeconds: options.retryAfterSeconds };

  if (options.mode === 'sagemaker') {
    app.get(contract.livenessPath, (c) => {
      if (!models.ready || !models.current || options.isDraining()) {
        throw new ProblemException(options.isDraining() || models.isClosing ? 'shutting-down' : 'model-not-ready', retry);
      }
      return c.body(null, 200);
    });
  }

  app.post(contract.scoringPath, async (c) => {
    const contentType = c.req.header('content-type');
    if (!isJsonMediaType(contentType)) {
      throw new ProblemException('unsupported-media-type', { detail: `content-type is ${contentType ? JSON.stringify(contentType) : 'missing'}: send application/json` });
    }
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > options.maxBodyBytes) {
      throw new ProblemException('payload-too-large', { detail: `the body exceeds ${options.maxBodyBytes} bytes` });
    }
    const model = models.model();
    // refused before the body is read: queue full, or a wait beyond the latency budget (the API's own admission)
    const refusal = model.refusal(Number(declared ?? 0) || 0);
    if (refusal) throw refusal;
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > options.maxBodyBytes) throw new ProblemException('payload-too-large', { detail: `the body exceeds ${options.maxBodyBytes} bytes` });
    const shape = bodyShape(body);
    const outcome = await model.predict(shape, body, c.get('requestId'), options.requestTimeoutMs);
    if (!outcome.ok) throw new ProblemException(outcome.problem.kind, { detail: outcome.problem.detail, errors: outcome.problem.errors });
    const serving = `"modelVersion":${JSON.stringify(model.id)},"featureSpecVersion":${JSON.stringify(model.info.featureSpecVersion)},"requestId":${JSON.stringify(c.get('requestId'))}`;
    const text = shape === 'batch' ? `{"predictions":${outcome.predictionsJson},${serving}}` : `{${outcome.predictionsJson},${serving}}`;
    return c.body(text, 200, { 'content-type': 'application/json' });
  });
}

/**
 * One basket or a batch: a JSON object with a `baskets` member is a batch. Anything that does not
 * parse goes to the worker as a basket, which answers the malformed-json problem the API gives.
 */
function bodyShape(body: Uint8Array): BodyShape {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'baskets' in parsed ? 'batch' : 'basket';
  } catch {
    return 'basket';
  }
}
