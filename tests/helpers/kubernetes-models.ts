/**
 * Offline validation of rendered Kubernetes objects: the typed model of `kubernetes-models` for the
 * object's apiVersion and kind (Argo CD's from `@kubernetes-models/argo-cd`), instantiated with the
 * object and `.validate()`d against the API's OpenAPI schema (types, enums, required fields).
 * The schemas accept unknown fields, so tests still assert the fields they care about one by one.
 */

/** A rendered object: at least its type. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

interface ValidatingModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => ValidatingModel;

function modelModuleFor(apiVersion: string): string {
  if (apiVersion.startsWith('argoproj.io/')) return `@kubernetes-models/argo-cd/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`; // `v1` (core) or `<group>/<version>`
}

/** The model class for `apiVersion`/`kind`; throws if the packages have none (an unknown type is a failure, not a pass). */
export async function kubernetesModelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const exports = (await import(modelModuleFor(apiVersion))) as Record<string, unknown>;
  const model = exports[kind];
  if (typeof model !== 'function') throw new Error(`kubernetes-models has no model for ${apiVersion} ${kind}`);
  return model as ModelClass;
}

/** Validates one object with its typed model; throws the model's error (naming the bad field) if invalid. */
export async function validateKubernetesObject(object: KubernetesObject): Promise<void> {
  const Model = await kubernetesModelFor(object.apiVersion, object.kind);
  new Model(object).validate();
}
