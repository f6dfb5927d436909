/**
 * What Azure ML does with a command job, done for real on this machine: the inputs are downloaded
 * from Blob storage (azurite) by resolving `azureml://datastores/<datastore>/paths/<path>` through the
 * workspace's datastores, the command runs with `${{inputs.<name>}}` / `${{outputs.<name>}}` replaced
 * by local paths, and each `uri_folder` output is uploaded to its datastore path when the command
 * succeeds. The command must run the project's image (the environment the emulator was told is
 * "this install"): its CLI (`node /app/lib/bin/retail-mlops.js`) becomes this install's own
 * `retail-mlops`, a child process that a cancel ends.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';
import type { ContainerClient, StoragePipelineOptions } from '@azure/storage-blob' with { 'resolution-mode': 'import' };
import type { EmulatedJob, JobContext, JobRunner, JsonObject } from './control-plane';
import { ownCliInvocation, runProcess } from '../../emulation/processes';
import { IMAGE_CLI } from '../command-job';

export interface CommandJobRunnerOptions {
  /** azurite's account URL (`https://127.0.0.1:<port>/devstoreaccount1`): datastores of its account resolve to it. */
  readonly accountUrl: string;
  readonly account: string;
  readonly accountKey: string;
  /** PEM the emulator's own Blob client trusts (azurite's certificate). */
  readonly trustedCertificate?: string;
  /** The image the emulator runs as this install. */
  readonly projectImage: string;
  /** @default - the OS temp directory */
  readonly workDirectory?: string;
  /** @default - silent */
  readonly log?: (line: string) => void;
}

const DATASTORE_URI = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/;

async function containerClient(options: CommandJobRunnerOptions, container: string): Promise<ContainerClient> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const pipelineOptions = (options.trustedCertificate ? { tlsOptions: { ca: [...rootCertificates, options.trustedCertificate] } } : {}) as StoragePipelineOptions;
  return new BlobServiceClient(options.accountUrl, new StorageSharedKeyCredential(options.account, options.accountKey), pipelineOptions).getContainerClient(container);
}

/** The container and path a datastore URI names. */
async function resolve(options: CommandJobRunnerOptions, context: JobContext, uri: unknown): Promise<{ container: ContainerClient; blobPath: string }> {
  const match = DATASTORE_URI.exec(String(uri ?? ''));
  if (!match) throw new Error(`the emulator reads azureml://datastores/<name>/paths/<path> URIs only, not ${JSON.stringify(uri)}`);
  const datastore = context.datastore(match[1]);
  if (!datastore) throw new Error(`datastore '${match[1]}' does not exist in the workspace`);
  if (datastore.datastoreType !== 'AzureBlob' || datastore.accountName !== options.account) {
    throw new Error(`datastore '${match[1]}' is not a Blob container of the emulated account ${options.account}`);
  }
  return { container: await containerClient(options, String(datastore.containerName)), blobPath: match[2] };
}

async function download(container: ContainerClient, blobName: string, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const response = await container.getBlobClient(blobName).download();
  await pipeline(response.readableStreamBody as NodeJS.ReadableStream, createWriteStream(file));
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)));
}

async function runCommandJob(options: CommandJobRunnerOptions, job: EmulatedJob, context: JobContext): Promise<'Completed' | 'Failed' | 'Canceled'> {
  const properties = job.properties;
  const image = context.environment()?.image;
  if (image !== options.projectImage) throw new Error(`the emulator runs the project's image ${options.projectImage} only, not ${JSON.stringify(image)}`);
  const command = String(properties.command ?? '');
  if (!command.startsWith(`${IMAGE_CLI} `)) throw new Error(`the project's image runs '${IMAGE_CLI} …', not '${command}'`);
  const parent = options.workDirectory ?? os.tmpdir();
  await mkdir(parent, { recursive: true });
  const work = await mkdtemp(path.join(parent, `azureml-${job.name}-`));
  try {
    const substitutions = new Map<string, string>();
    for (const [name, input] of Object.entries((properties.inputs ?? {}) as Record<string, JsonObject>)) {
      const local = path.join(work, 'inputs', name);
      if (input.jobInputType === 'literal') {
        substitutions.set(`\${{inputs.${name}}}`, String(input.value));
      } else if (input.jobInputType === 'uri_folder') {
        const { container, blobPath } = await resolve(options, context, input.uri);
        const prefix = blobPath.endsWith('/') || blobPath === '' ? blobPath : `${blobPath}/`;
        await mkdir(local, { recursive: true });
        for await (const blob of container.listBlobsFlat({ prefix })) await download(container, blob.name, path.join(local, blob.name.slice(prefix.length)));
        substitutions.set(`\${{inputs.${name}}}`, local);
      } else if (input.jobInputType === 'uri_file') {
        const { container, blobPath } = await resolve(options, context, input.uri);
        const file = path.join(local, path.posix.basename(blobPath));
        await download(container, blobPath, file);
        substitutions.set(`\${{inputs.${name}}}`, file);
      } else {
        throw new Error(`input ${name}: the emulator supports uri_folder, uri_file and literal inputs, not ${String(input.jobInputType)}`);
      }
    }
    const outputs = Object.entries((properties.outputs ?? {}) as Record<string, JsonObject>);
    for (const [name, output] of outputs) {
      if (output.jobOutputType !== 'uri_folder') throw new Error(`output ${name}: the emulator supports uri_folder outputs, not ${String(output.jobOutputType)}`);
      const local = path.join(work, 'outputs', name);
      await mkdir(local, { recursive: true });
      substitutions.set(`\${{outputs.${name}}}`, local);
    }
    const words = command.slice(IMAGE_CLI.length + 1).split(/\s+/).filter((word) => word.length > 0);
    const args = words.map((word) => word.replace(/\$\{\{(inputs|outputs)\.[\w-]+\}\}/g, (placeholder) => substitutions.get(placeholder) ?? placeholder));
    const cli = ownCliInvocation();
    context.setStatus('Running');
    const result = await runProcess({ command: cli.command, args: [...cli.args, ...args] }, {
      cwd: work,
      env: { ...process.env, ...((properties.environmentVariables ?? {}) as Record<string, string>), AZUREML_RUN_ID: job.name },
      signal: context.signal,
      onOutput: (text) => options.log?.(`[${job.name}] ${text.trimEnd()}`),
    });
    if (context.signal.aborted) return 'Canceled';
    if (result.exitCode !== 0) {
      options.log?.(`job ${job.name}: the command exited with ${result.exitCode ?? result.signal}: ${result.stderrTail}`);
      return 'Failed';
    }
    context.setStatus('Finalizing');
    for (const [name, output] of outputs) {
      const { container, blobPath } = await resolve(options, context, output.uri);
      const prefix = blobPath.endsWith('/') || blobPath === '' ? blobPath : `${blobPath}/`;
      const local = path.join(work, 'outputs', name);
      for (const relative of await filesUnder(local)) {
        await container.getBlockBlobClient(`${prefix}${relative.split(path.sep).join('/')}`).uploadFile(path.join(local, relative));
      }
    }
    return 'Completed';
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The emulator's job runner. */
export function createCommandJobRunner(options: CommandJobRunnerOptions): JobRunner {
  return (job, context) => runCommandJob(options, job, context);
}
