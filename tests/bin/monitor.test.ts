/**
 * The operating loop end to end through the real CLI, locally: `serve` a model with the sample lake as
 * its lake, send it baskets (with BASKET_IDs, whose labels the lake already holds: "labels that arrived
 * later"), stop it (the prediction log ships on SIGTERM), run `monitor`. A shifted population (late,
 * large Full Shop baskets of every store format) → drift flagged, live accuracy reported, one captured
 * buildWithParameters request to a Jenkins on loopback (crumb, cookie, API token), and no second one
 * within the cooldown; the model's own population → nothing flagged, nothing requested. The report
 * lands in the lake and renders in Chromium with the shifted features' bars.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_COLORS } from '../../core/evaluation/svg-charts';
import { readGoldBaskets } from '../../core/lake/gold-reader';
import { Lake } from '../../core/lake/lake';
import { ENVIRONMENT_FIELD, TELEMETRY_EVENTS } from '../../core/monitoring/telemetry';
import type { Basket } from '../../core/schema/lgsr';
import { chromiumAvailable, screenshotPage } from '../helpers/chromium';
import { cli } from '../helpers/cli';
import { serveCli, type ServeProcess } from '../helpers/cli-serve';
import { segmentFiles } from '../helpers/prediction-log';
import { basketsFromBatch } from '../helpers/served-model';
import { useServedModelAndSampleLake } from '../helpers/served-sample-lake';
import { API_KEY, AUTHORIZED } from '../server/harness';


interface CapturedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A Jenkins on loopback that answers the crumb issuer and buildWithParameters, keeping every request. */
async function fakeJenkins(): Promise<{ readonly url: string; readonly requests: CapturedRequest[]; close(): Promise<void> }> {
  const requests: CapturedRequest[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      if (request.url === '/crumbIssuer/api/json') {
        response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'JSESSIONID.abc=session-1; Path=/; HttpOnly' });
        response.end(JSON.stringify({ _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: 'crumb-123', crumbRequestField: 'Jenkins-Crumb' }));
        return;
      }
      if (request.method === 'POST' && request.url === '/job/retail-mlops/job/main/buildWithParameters') {
        const address = server.address() as AddressInfo;
        response.writeHead(201, { location: `http://127.0.0.1:${address.port}/queue/item/42/` });
        response.end();
        return;
      }
      response.writeHead(404);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** `retail-mlops serve --json` as a child process, ready once it printed its summary. */
function serve(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  return serveCli(args, env);
}

/** The JSON lines of a stream of stderr. */
function events(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface MonitorSummary {
  drift: { verdict: string; maxPsi: number; drifted: string[] };
  liveAccuracy: { verdict: string; accuracy?: number; macroF1?: number; records?: number; days?: { day: string }[] };
  retrain: { outcome: string; reasons: string[]; ci?: { status?: number; location?: string } };
  predictions: number;
  report: string;
}

describe('retail-mlops monitor: serve, ship, detect drift, retrain through the CI (locally, the real CLI)', () => {
  const setup = useServedModelAndSampleLake();
  const { scratch } = setup;
  let labelled: { readonly shifted: Basket[]; readonly steady: Basket[] };

  beforeAll(async () => {
    // the evaluation week's baskets as a till sends them, each with its BASKET_ID (gold holds their labels)
    const { batch } = await readGoldBaskets(await Lake.openExisting(setup.lake), [200611]);
    const rows = Int32Array.from({ length: batch.size }, (_, index) => index);
    const baskets = basketsFromBatch(batch, rows).map((basket, row) => ({ ...basket, context: { ...basket.context, BASKET_ID: String(batch.basketId[row]) } }));
    // shifted: evening, large, Full Shop baskets — whatever their store format
    const shifted = baskets.filter((basket) => basket.context.SHOP_HOUR >= 15 && (basket.context.BASKET_TYPE === 'Full Shop' || basket.lines.length >= 8));
    // steady: every second basket of the week, as the model was evaluated on it
    const steady = baskets.filter((_, index) => index % 2 === 0);
    labelled = { shifted, steady };
    expect(new Set(shifted.map((basket) => basket.context.STORE_FORMAT)).size).toBeGreaterThan(1);
    expect(shifted.length).toBeGreaterThan(300);
  });

  /** A project directory (the CLI's cwd) whose .retail-mlops.json has the monitoring section and a Jenkins trigger. */
  function project(name: string, jenkinsUrl: string): string {
    const directory = path.join(scratch, name);
    mkdirSync(directory, { recursive: true });
    writeFileSync(
      path.join(directory, '.retail-mlops.json'),
      JSON.stringify({
        gate: { minimumAccuracy: 0.75, minimumMacroF1: 0.7 },
        monitoring: { windowHours: 1, minimumPredictions: 200, minimumLabelledBaskets: 100, cooldownHours: 24, trigger: { kind: 'jenkins', url: jenkinsUrl, job: 'retail-mlops/main' } },
      }),
    );
    return directory;
  }

  /** Serves the production model with `lake` as its lake, sends `baskets` (batches of 100), stops it. */
  async function servePredictions(lake: string, baskets: readonly Basket[]): Promise<void> {
    const server = await serve(['--registry', setup.fixture().registryRoot, '--model', 'production', '--port', '0', '--host', '127.0.0.1', '--lake', lake], {
      RETAIL_MLOPS_API_KEYS: API_KEY,
      RETAIL_MLOPS_PREDICTION_SPOOL: `${lake}.spool`,
    });
    for (let start = 0; start < baskets.length; start += 100) {
      const response = await fetch(`${server.url}/v1/predict/batch`, { method: 'POST', headers: AUTHORIZED, body: JSON.stringify({ baskets: baskets.slice(start, start + 100) }) });
      expect(response.status).toBe(200);
    }
    const stopped = await server.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    // shipped on SIGTERM: the spool is empty, the lake holds the segments
    expect(segmentFiles(`${lake}.spool`)).toEqual([]);
    expect(segmentFiles(path.join(lake, 'predictions')).length).toBeGreaterThan(0);
  }

  async function monitor(cwd: string, lake: string, extra: readonly string[] = []): Promise<{ summary: MonitorSummary; stderr: string; code: number }> {
    const result = await cli(['monitor', '--lake', lake, '--registry', setup.fixture().registryRoot, '--json', ...extra], {
      cwd,
      env: { JENKINS_USER: 'monitor-bot', JENKINS_API_TOKEN: 'jenkins-token-0123456789', RETAIL_MLOPS_ENVIRONMENT: '' },
    });
    expect(result.code, result.stderr).toBe(0);
    return { summary: JSON.parse(result.stdout) as MonitorSummary, stderr: result.stderr, code: result.code };
  }

  it('a shifted population: drift flagged, live accuracy per day, one retrain requested from Jenkins, none more within the cooldown', async () => {
    const jenkins = await fakeJenkins();
    try {
      const lake = path.join(scratch, 'shifted-lake');
      cpSync(setup.lake, lake, { recursive: true });
      await servePredictions(lake, labelled.shifted);
      const cwd = project('shifted', jenkins.url);
      const first = await monitor(cwd, lake);
      expect(first.summary.predictions).toBe(labelled.shifted.length);
      expect(first.summary.drift.verdict).toBe('drifted');
      expect(first.summary.drift.maxPsi).toBeGreaterThan(0.25);
      // more than one kind of feature moved: basket type or size, and the hour
      expect(first.summary.drift.drifted.some((feature) => /type|size|lines|items|spend/i.test(feature))).toBe(true);
      expect(first.summary.drift.drifted.some((feature) => /hour/i.test(feature))).toBe(true);
      // labels arrived (gold holds these baskets): live accuracy, per day
      // every shifted basket but the unclassified (XX) ones is scored
      expect(first.summary.liveAccuracy.records).toBeGreaterThan(labelled.shifted.length * 0.9);
      expect(first.summary.liveAccuracy.records).toBeLessThanOrEqual(labelled.shifted.length);
      expect(first.summary.liveAccuracy.accuracy).toBeGreaterThan(0.6);
      expect(first.summary.liveAccuracy.days).toHaveLength(1);
      expect(first.summary.retrain.outcome).toBe('triggered');
      expect(first.summary.retrain.ci).toMatchObject({ status: 201, location: expect.stringContaining('/queue/item/42/') });

      // exactly one crumb request and one build request, authenticated as Jenkins wants
      expect(jenkins.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /crumbIssuer/api/json', 'POST /job/retail-mlops/job/main/buildWithParameters']);
      const build = jenkins.requests[1];
      expect(build.headers.authorization).toBe(`Basic ${Buffer.from('monitor-bot:jenkins-token-0123456789').toString('base64')}`);
      expect(build.headers['jenkins-crumb']).toBe('crumb-123');
      expect(build.headers.cookie).toBe('JSESSIONID.abc=session-1');
      const parameters = new URLSearchParams(build.body);
      expect(parameters.get('RETAIL_MLOPS_ENVIRONMENT')).toBe('local');
      expect(parameters.get('MODEL_VERSION')).toBe(setup.fixture().versions.production);
      expect(parameters.get('RETRAIN_REASON')).toMatch(/drift: \d+ above PSI 0.25/);

      // the events log-based alerts and metric filters read, with every field the telemetry contract lists
      const lines = events(first.stderr);
      for (const key of ['driftReport', 'liveAccuracy', 'retrain'] as const) {
        const event = lines.find((line) => line.event === TELEMETRY_EVENTS[key].name);
        expect(event, TELEMETRY_EVENTS[key].name).toBeDefined();
        expect(event![ENVIRONMENT_FIELD]).toBe('local');
        for (const field of TELEMETRY_EVENTS[key].numericFields) expect(typeof event![field], `${TELEMETRY_EVENTS[key].name}.${field}`).toBe('number');
      }
      expect(lines.find((line) => line.event === TELEMETRY_EVENTS.retrain.name)).toMatchObject({ outcome: 'triggered', triggered: 1 });

      // the report in the lake, and the state that keeps the cooldown
      const report = path.join(lake, 'reports', 'drift', 'latest.html');
      const html = readFileSync(report, 'utf8');
      expect(first.summary.report).toMatch(/reports\/drift\/\d{8}T\d{6}Z-v-[0-9a-f]{12}\.html$/);
      for (const feature of first.summary.drift.drifted.filter((item) => item !== 'predicted class').slice(0, 5)) expect(html).toContain(feature);
      expect(html).toContain('Live accuracy and macro-F1 per day');
      expect(html).toContain('Retraining: triggered');
      expect(html).not.toMatch(/<script|(?:src|href)=["']?https?:/);
      expect(JSON.parse(readFileSync(path.join(lake, 'monitoring', 'retrain-state.json'), 'utf8'))).toMatchObject({ outcome: 'triggered' });

      // an hour later the drift is still there: the cooldown holds, nothing more is requested
      const second = await monitor(cwd, lake);
      expect(second.summary.drift.verdict).toBe('drifted');
      expect(second.summary.retrain.outcome).toBe('cooldown');
      expect(jenkins.requests).toHaveLength(2);
      expect(events(second.stderr).find((line) => line.event === TELEMETRY_EVENTS.retrain.name)).toMatchObject({ outcome: 'cooldown', triggered: 0 });

      // the report renders in Chromium: the drifted features' bars are there in their colour
      if (chromiumAvailable) await expectRenderedDriftBars(report, first.summary.drift.drifted.length);
    } finally {
      await jenkins.close();
    }
  });

  it('the model\'s own population: nothing flagged, nothing requested', async () => {
    const jenkins = await fakeJenkins();
    try {
      const lake = path.join(scratch, 'steady-lake');
      cpSync(setup.lake, lake, { recursive: true });
      await servePredictions(lake, labelled.steady);
      const { summary, stderr } = await monitor(project('steady', jenkins.url), lake);
      expect(summary.predictions).toBe(labelled.steady.length);
      expect(summary.drift.verdict).toBe('stable');
      expect(summary.drift.drifted).toEqual([]);
      expect(summary.liveAccuracy.verdict).toBe('ok');
      expect(summary.retrain.outcome).toBe('not-needed');
      expect(jenkins.requests).toEqual([]);
      expect(events(stderr).find((line) => line.event === TELEMETRY_EVENTS.driftReport.name)).toMatchObject({ level: 'info', driftedFeatures: 0 });
    } finally {
      await jenkins.close();
    }
  });

  it('explains every threshold in --help, and reports every settings problem at once (exit 2) before touching anything', async () => {
    const help = await cli(['monitor', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--window', '--drift-threshold', '--min-predictions', '--label-window', '--min-labelled', '--min-accuracy', '--min-macro-f1', '--cooldown']) {
      expect(help.stdout).toContain(flag);
    }
    for (const key of ['windowHours', 'driftThreshold', 'minimumPredictions', 'labelWindowHours', 'minimumLabelledBaskets', 'minimumAccuracy', 'minimumMacroF1', 'cooldownHours', 'predictionsMaxAgeDays']) {
      expect(help.stdout).toContain(`monitoring.${key}`);
    }
    const cwd = path.join(scratch, 'bad');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(path.join(cwd, '.retail-mlops.json'), JSON.stringify({ monitoring: { windowHours: 0, cooldown: 3, trigger: { kind: 'travis', repository: 'no-slash' } } }));
    const bad = await cli(['monitor', '--lake', setup.lake, '--registry', setup.fixture().registryRoot], { cwd, env: { TRAVIS_API_TOKEN: '' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown key 'cooldown'.*windowHours must be.*repository must be owner\/name/);
    writeFileSync(path.join(cwd, '.retail-mlops.json'), JSON.stringify({ monitoring: { trigger: { kind: 'travis', repository: 'acme/shop' } } }));
    const secretless = await cli(['monitor', '--lake', setup.lake, '--registry', setup.fixture().registryRoot], { cwd, env: { TRAVIS_API_TOKEN: '' } });
    expect(secretless.code).toBe(2);
    expect(secretless.stderr).toContain('needs the environment variable TRAVIS_API_TOKEN');
  });
});

/** Screenshots the report in headless Chromium and checks the vermillion (drifted) bars are painted. */
async function expectRenderedDriftBars(report: string, drifted: number): Promise<void> {
  const { image, bytes } = await screenshotPage(report, 1200, 1600);
  expect(bytes).toBeGreaterThan(20_000);
  let vermillion = 0;
  let inked = 0;
  const target = [0xd5, 0x5e, 0x00];
  for (let offset = 0; offset < image.data.length; offset += 4) {
    const rgb = [image.data[offset], image.data[offset + 1], image.data[offset + 2]];
    if (rgb.some((channel) => channel < 235)) inked += 1;
    if (rgb.every((channel, index) => Math.abs(channel - target[index]) <= 2)) vermillion += 1;
  }
  expect(CHART_COLORS.vermillion).toBe('#d55e00');
  expect(inked / (image.width * image.height)).toBeGreaterThan(0.05);
  // a drifted feature's bar is ≥ 18 px high and, the largest, up to 560 px long
  expect(vermillion).toBeGreaterThan(Math.min(drifted, 20) * 18 * 20);
}
