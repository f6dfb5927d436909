import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../core/config/settings';
import { fileVariable, SERVER_VARIABLES } from '../../server/settings';
import { REPO_ROOT } from '../helpers/paths';

/** The files that read or set the server's environment (server/settings.ts's readers). */
const READERS = ['server/main.ts', 'server/auth.ts', 'server/app.ts', 'server/hosting/managed-hosting.ts', 'bin/commands/serve.ts', 'manifests/api-chart.ts', 'pipelines/container-image.ts'];

/** Source without its comments (a variable named in documentation is not a second spelling). */
function code(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

describe('the server\'s runtime contract (server/settings.ts)', () => {
  it('spells each server variable once: its readers name none themselves', () => {
    const variables = [...Object.values(SERVER_VARIABLES), fileVariable(SERVER_VARIABLES.apiKeys), fileVariable(SERVER_VARIABLES.adminKeys)];
    const spelled = READERS.flatMap((file) => variables.filter((variable) => new RegExp(`\\b${variable}\\b`).test(code(file))).map((variable) => `${file}: ${variable}`));
    expect(spelled).toEqual([]);
  });

  it('takes the variables every command shares from core/config/settings.ts', () => {
    const shared = new Map(SETTINGS.map((setting) => [setting.key, setting.variable]));
    expect(SERVER_VARIABLES.registry).toBe(shared.get('registry'));
    expect(SERVER_VARIABLES.provider).toBe(shared.get('provider'));
  });

});
