/**
 * The model pins file: the committed one is valid; reading reports every problem; writing is
 * canonical, validated first and atomic (temporary file + rename, nothing left behind on failure).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, InvalidOptionsError } from '../../core/errors';
import {
  modelPinChecksum,
  parseModelPins,
  readModelPins,
  serializeModelPins,
  withModelPin,
  writeModelPins,
  type ModelPins,
} from '../../manifests';

const committedPinsFile = path.resolve(__dirname, '../../manifests/pins.json');

const pins: ModelPins = {
  dev: { model: 'v-00000000000d' },
  staging: { model: 'v-00000000000s' },
  production: { model: 'v-00000000000p' },
};

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'retail-mlops-pins-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('the committed manifests/pins.json', () => {
  it('is valid and in canonical form (what writeModelPins would write)', async () => {
    const committed = await readModelPins(committedPinsFile);
    expect(await readFile(committedPinsFile, 'utf8')).toBe(serializeModelPins(committed));
  });
});

describe('parseModelPins', () => {
  it('reads all three environments', () => {
    expect(parseModelPins(serializeModelPins(pins), 'pins.json')).toEqual(pins);
  });

  it('reports every problem of the file at once', () => {
    const text = JSON.stringify({
      dev: { registry: 's3://retail-models/registry', model: 'latest', modle: 'v-1' },
      production: { model: '' },
      qa: { model: 'v-1' },
    });
    let thrown: unknown;
    try {
      parseModelPins(text, 'pins.json');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionsError);
    expect((thrown as InvalidOptionsError).message).toMatch(/^invalid model pins in pins\.json: /);
    expect((thrown as InvalidOptionsError).problems).toEqual([
      'unknown environment "qa" (known: dev, staging, production)',
      'dev has an unknown field "registry" (known: model; the registry is the environment\'s, named by the deployment target)',
      'dev has an unknown field "modle" (known: model; the registry is the environment\'s, named by the deployment target)',
      'dev.model must pin a version, not "latest"',
      'environment "staging" has no pin',
      'production.model must be a model version (letters, digits, \'.\', \'_\', \':\', \'+\', \'-\'), got ""',
    ]);
  });

  it('rejects text that is not JSON or not an object', () => {
    expect(() => parseModelPins('{ "dev": ', 'pins.json')).toThrow(InputError);
    expect(() => parseModelPins('[]', 'pins.json')).toThrow(/the file must hold one object keyed by environment/);
  });
});

describe('readModelPins', () => {
  it('names a missing file', async () => {
    await expect(readModelPins(path.join(directory, 'missing.json'))).rejects.toThrow(/cannot read the model pins .*missing\.json/);
  });
});

describe('writeModelPins', () => {
  it('writes the canonical text that reads back the same, leaving no temporary file', async () => {
    const file = path.join(directory, 'pins.json');
    await writeModelPins(file, pins);
    expect(await readFile(file, 'utf8')).toBe(serializeModelPins(pins));
    expect(await readModelPins(file)).toEqual(pins);
    expect(await readdir(directory)).toEqual(['pins.json']);
  });

  it('replaces an existing file whole', async () => {
    const file = path.join(directory, 'pins.json');
    await writeFile(file, `${JSON.stringify({ old: true })}\n`.repeat(100));
    await writeModelPins(file, pins);
    expect(await readModelPins(file)).toEqual(pins);
  });

  it('refuses invalid pins and leaves the old file untouched', async () => {
    const file = path.join(directory, 'pins.json');
    await writeModelPins(file, pins);
    const invalid = { ...pins, production: { registry: 's3://retail-models/registry', model: 'latest' } };
    await expect(writeModelPins(file, invalid)).rejects.toThrow(InvalidOptionsError);
    expect(await readModelPins(file)).toEqual(pins);
    expect(await readdir(directory)).toEqual(['pins.json']);
  });

  it('cleans up its temporary file when the rename fails', async () => {
    const target = path.join(directory, 'pins.json');
    await mkdir(target); // a directory where the file should be: the rename fails
    await expect(writeModelPins(target, pins)).rejects.toThrow();
    expect(await readdir(directory)).toEqual(['pins.json']);
  });
});

describe('withModelPin', () => {
  it('changes one environment and keeps the others', () => {
    const promoted = withModelPin(pins, 'production', { ...pins.production, model: 'v-00000000000s' });
    expect(promoted.production.model).toBe('v-00000000000s');
    expect(promoted.dev).toEqual(pins.dev);
    expect(promoted.staging).toEqual(pins.staging);
    expect(pins.production.model).toBe('v-00000000000p'); // the input is not changed
  });

  it('validates the new pin', () => {
    expect(() => withModelPin(pins, 'staging', { model: 'latest' })).toThrow(/staging\.model must pin a version/);
  });
});

describe('modelPinChecksum', () => {
  it('is a sha256 that changes with either field', () => {
    const pin = { registry: 's3://retail-models/registry', model: pins.dev.model };
    const checksum = modelPinChecksum(pin);
    expect(checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(modelPinChecksum({ ...pin })).toBe(checksum);
    expect(modelPinChecksum({ ...pin, model: 'v-00000000000e' })).not.toBe(checksum);
    expect(modelPinChecksum({ ...pin, registry: 's3://other-models/registry' })).not.toBe(checksum);
  });
});
