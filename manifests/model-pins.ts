/**
 * The model pins: which model version each environment serves, committed as `manifests/pins.json`
 * and rewritten by the promotion tool (a promotion is a reviewed commit of this file plus the
 * re-rendered manifests). Shape:
 *
 * ```json
 * { "dev": { "model": "v-5e1f0c2a9b34" }, "staging": { … }, "production": { … } }
 * ```
 *
 * The registry the version lives in is not pinned here: it is the environment's own, and each cloud's
 * deployment target names it (`deployment-targets.ts`), so an EKS chart can only read an `s3://`
 * registry and an AKS chart a Blob one.
 *
 * Reading validates everything and reports every problem at once; writing validates first, then
 * replaces the file atomically (temporary file beside it, fsync, rename), so a reader never sees
 * half a file and a failed write leaves the old pins in place.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { environments, isEnvironment, type Environment } from './environments';
import { InputError, ProblemCollector } from '../core/errors';
import { writeFileAtomically } from '../core/files/write-atomically';

/** What a chart serves: the registry the server reads (the environment's) and the pinned model version it loads. */
export interface ModelPin {
  /**
   * The model registry, as the server's `RETAIL_MLOPS_REGISTRY` takes it: `s3://bucket/prefix` or
   * `https://account.blob.core.windows.net/container/prefix` (a pod has no local registry).
   */
  readonly registry: string;
  /** The model version (`RETAIL_MLOPS_MODEL`); pin a version, not a moving alias. Never `latest`. */
  readonly model: string;
}

/** One environment's entry of `pins.json`. */
export interface EnvironmentPin {
  /** The model version (`RETAIL_MLOPS_MODEL`); pin a version, not a moving alias. Never `latest`. */
  readonly model: string;
}

/** One pin per environment; all environments are present. */
export type ModelPins = { readonly [E in Environment]: EnvironmentPin };

const pinFields: readonly (keyof EnvironmentPin)[] = ['model'];

/** Adds a problem for each thing wrong with a `pins.json` entry; `label` prefixes the messages (e.g. `production`). */
export function checkEnvironmentPin(pin: unknown, label: string, problems: ProblemCollector): void {
  if (typeof pin !== 'object' || pin === null || Array.isArray(pin)) {
    problems.check(false, `${label} must be an object with "model"`);
    return;
  }
  const fields = pin as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    problems.check((pinFields as readonly string[]).includes(field), `${label} has an unknown field "${field}" (known: ${pinFields.join(', ')}; the registry is the environment's, named by the deployment target)`);
  }
  checkModelVersion(fields.model, label, problems);
}

/** Adds a problem for each thing wrong with a chart's pin; `label` prefixes the messages. */
export function checkModelPin(pin: unknown, label: string, problems: ProblemCollector): void {
  if (typeof pin !== 'object' || pin === null || Array.isArray(pin)) {
    problems.check(false, `${label} must be an object with "registry" and "model"`);
    return;
  }
  const fields = pin as Record<string, unknown>;
  const registry = fields.registry;
  problems.check(
    typeof registry === 'string' && registryCloud(registry) !== undefined,
    `${label}.registry must be the s3:// or https://<account>.blob.core.windows.net/ URL of the model registry (a pod has no local registry), got ${JSON.stringify(registry)}`,
  );
  checkModelVersion(fields.model, label, problems);
}

function checkModelVersion(model: unknown, label: string, problems: ProblemCollector): void {
  problems.check(
    typeof model === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/.test(model),
    `${label}.model must be a model version (letters, digits, '.', '_', ':', '+', '-'), got ${JSON.stringify(model)}`,
  );
  problems.check(
    typeof model !== 'string' || model.toLowerCase() !== 'latest',
    `${label}.model must pin a version, not "latest"`,
  );
}

/** Parses and validates the text of a pins file; `source` names it in error messages. */
export function parseModelPins(text: string, source: string): ModelPins {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const problems = new ProblemCollector(`model pins in ${source}`);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problems.check(false, 'the file must hold one object keyed by environment');
    problems.throwIfAny();
  }
  const entries = document as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    problems.check(isEnvironment(key), `unknown environment "${key}" (known: ${environments.join(', ')})`);
  }
  for (const environment of environments) {
    if (!(environment in entries)) problems.check(false, `environment "${environment}" has no pin`);
    else checkEnvironmentPin(entries[environment], environment, problems);
  }
  problems.throwIfAny();
  return Object.fromEntries(
    environments.map((environment) => {
      const pin = entries[environment] as EnvironmentPin;
      return [environment, { model: pin.model }];
    }),
  ) as unknown as ModelPins;
}

/** The file's canonical text: environments in promotion order, two-space indent, final newline. */
export function serializeModelPins(pins: ModelPins): string {
  const ordered = Object.fromEntries(
    environments.map((environment) => [environment, { model: pins[environment].model }]),
  );
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Reads and validates a pins file. Throws `InputError` if unreadable, `InvalidOptionsError` listing every problem if invalid. */
export async function readModelPins(file: string): Promise<ModelPins> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the model pins ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseModelPins(text, file);
}

/**
 * Validates `pins` and writes them to `file` atomically: a temporary file in the same directory,
 * flushed to disk, then renamed over the target. The directory must exist.
 */
export async function writeModelPins(file: string, pins: ModelPins): Promise<void> {
  const text = serializeModelPins(pins);
  parseModelPins(text, file); // the same checks a reader applies: never write a file nobody can read back
  await writeFileAtomically(file, text);
}

/** A copy of `pins` with `environment` pinned to `pin` (the others unchanged); validates the new pin. */
export function withModelPin(pins: ModelPins, environment: Environment, pin: EnvironmentPin): ModelPins {
  const problems = new ProblemCollector('model pin');
  problems.check(isEnvironment(environment), `unknown environment "${String(environment)}" (known: ${environments.join(', ')})`);
  checkEnvironmentPin(pin, String(environment), problems);
  problems.throwIfAny();
  return { ...pins, [environment]: { model: pin.model } };
}

/**
 * A digest of the pin, `sha256:<hex>` over its canonical JSON. Put on the pod template, it makes a
 * pin change roll the pods (the pin reaches them as environment variables, read once at start).
 */
export function modelPinChecksum(pin: ModelPin): string {
  const canonical = JSON.stringify({ registry: pin.registry, model: pin.model });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** The cloud whose pods can open a registry URL: `eks` for `s3://…`, `aks` for a Blob Storage URL; undefined for anything else. */
export function registryCloud(value: string): 'eks' | 'aks' | undefined {
  if (/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/.test(value)) return 'eks';
  if (/^https:\/\/[a-z0-9]{3,24}\.blob\.core\.windows\.net\/[a-z0-9-]{3,63}(\/\S*)?$/.test(value)) return 'aks';
  return undefined;
}
