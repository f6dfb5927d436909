/**
 * The workaround for a serializer bug of `@azure/arm-machinelearning` 2.x (api-version 2022-10-01):
 * a job's `inputs` and `outputs` are dictionaries of the polymorphic `JobInput` / `JobOutput`, but
 * the asset kinds (`uri_folder`, `uri_file`, `mltable`, `custom_model`, …) are registered under the
 * discriminator map's `AssetJobInput.*` / `AssetJobOutput.*` keys, so the serializer never finds
 * them and writes only `jobInputType`/`jobOutputType` and `description`: `uri` and `mode` are
 * dropped, and the service rejects the job (or writes the output somewhere unknown).
 *
 * The repair is a pipeline policy on the client: while a job is being created through
 * `repairedCreate`, the PUT of that job (matched by its URL) gets back every field of its inputs and
 * outputs that the serialized body lost, copied from the job as the caller built it. Every other
 * request passes untouched. tests/providers/azure/job-asset-repair.test.ts shows the loss on the
 * wire without the policy, and the repaired body with it.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline' with { 'resolution-mode': 'import' };

export const JOB_ASSET_REPAIR_POLICY_NAME = 'retailMlopsJobAssetRepair';

/** The parts of a job whose serialization is repaired. */
export interface JobAssets {
  readonly inputs?: Readonly<Record<string, object | null>>;
  readonly outputs?: Readonly<Record<string, object | null>>;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies into each serialized binding the fields of the intended one that it lacks. */
function restore(serialized: unknown, intended: Readonly<Record<string, object | null>> | undefined): { value: unknown; restored: string[] } {
  const restored: string[] = [];
  if (!intended || !isObject(serialized)) return { value: serialized, restored };
  const result: JsonObject = { ...serialized };
  for (const [name, binding] of Object.entries(intended)) {
    const current = result[name];
    if (!isObject(binding) || !isObject(current)) continue;
    const repaired: JsonObject = { ...current };
    for (const [field, value] of Object.entries(binding)) {
      if (value !== undefined && !(field in repaired)) {
        repaired[field] = value;
        restored.push(`${name}.${field}`);
      }
    }
    result[name] = repaired;
  }
  return { value: result, restored };
}

/**
 * Returns the serialized job body with the input and output fields the serializer dropped put back
 * (and the list of what was restored, e.g. `lake.uri`). A body without those bindings is returned as is.
 */
export function repairJobBody(body: string, assets: JobAssets): { readonly body: string; readonly restored: readonly string[] } {
  const document = JSON.parse(body) as unknown;
  if (!isObject(document) || !isObject(document.properties)) return { body, restored: [] };
  const inputs = restore(document.properties.inputs, assets.inputs);
  const outputs = restore(document.properties.outputs, assets.outputs);
  const restored = [...inputs.restored.map((field) => `inputs.${field}`), ...outputs.restored.map((field) => `outputs.${field}`)];
  if (restored.length === 0) return { body, restored };
  const properties = { ...document.properties, inputs: inputs.value, outputs: outputs.value };
  return { body: JSON.stringify({ ...document, properties }), restored };
}

/** The job a URL addresses: `…/workspaces/<ws>/jobs/<name>` (case-insensitive, without query). */
function jobKey(url: string): string | undefined {
  const pathname = new URL(url).pathname.toLowerCase();
  const match = /\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/]+\/jobs\/[^/]+$/.exec(pathname);
  return match ? pathname : undefined;
}

/** The repair: a policy to add to the client's pipeline, and the wrapper that arms it for one job. */
export class JobAssetRepair {
  private readonly pending = new Map<string, JobAssets>();

  /** The pipeline policy (add it once, to the client that creates jobs). */
  readonly policy: PipelinePolicy = {
    name: JOB_ASSET_REPAIR_POLICY_NAME,
    sendRequest: async (request, next) => {
      const key = request.method === 'PUT' ? jobKey(request.url) : undefined;
      const assets = key === undefined ? undefined : this.pending.get(key);
      if (assets && typeof request.body === 'string') request.body = repairJobBody(request.body, assets).body;
      return next(request);
    },
  };

  /**
   * Runs `create` (the SDK's `jobs.createOrUpdate` of the job at `jobUrl`) with the repair armed for
   * that job's PUT.
   */
  async repairedCreate<T>(jobUrl: string, assets: JobAssets, create: () => Promise<T>): Promise<T> {
    const key = jobKey(jobUrl);
    if (key === undefined) throw new Error(`'${jobUrl}' is not the URL of an Azure ML job`);
    this.pending.set(key, assets);
    try {
      return await create();
    } finally {
      this.pending.delete(key);
    }
  }
}
