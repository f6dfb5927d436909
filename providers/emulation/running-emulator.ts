/** What `npm run emulate -- <cloud>` starts and prints: the one JSON line, and how to stop it. */

/** The line a ready emulator prints on stdout (the keys the provider resolver reads). */
export interface EmulatorAnnouncement {
  readonly provider: 'aws' | 'azure';
  /** Variables to export: with them, the SDKs and the CLI reach the emulator and nothing else. */
  readonly env: Readonly<Record<string, string>>;
  /** The lake's URI (also `env.RETAIL_MLOPS_LAKE`). */
  readonly lake: string;
  /** The registry's URI (also `env.RETAIL_MLOPS_REGISTRY`). */
  readonly registry: string;
}

export interface RunningEmulator extends EmulatorAnnouncement {
  /** Where the state is kept (the `--data` directory, or a temporary one removed by `close`). */
  readonly dataDirectory: string;
  /** Stops every server and child process it started; removes its state unless it was given a data directory. */
  close(): Promise<void>;
}

/** The environment name every emulator announces (its resources play the `dev` environment). */
export const EMULATOR_ENVIRONMENT = 'dev';

/** The announcement as one line (no trailing newline). */
export function announcementLine(emulator: EmulatorAnnouncement): string {
  const { provider, env, lake, registry } = emulator;
  return JSON.stringify({ provider, env, lake, registry });
}

/** `KEY='value'` lines a POSIX shell can `source` (values single-quoted). */
export function shellExports(env: Readonly<Record<string, string>>): string {
  return Object.entries(env).map(([key, value]) => `export ${key}='${value.replaceAll("'", "'\\''")}'\n`).join('');
}
