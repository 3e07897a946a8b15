import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createDatabase } from '@raptorflow/core/db/database';
import { ROOT, freePort } from '../../scripts/lib/local-stack';
import { waitForExit, waitForHttp } from '../../scripts/lib/service-process';
import type { ServiceName } from '../../scripts/lib/service-process';
import {
  copyBuildContext,
  dockerStages,
  isIgnored,
  linkInstalledModules,
  parseDockerignore,
} from '../support/docker-context';
import { newUser } from '../support/factories';
import { client, eventually } from '../support/http';
import { PORT_VARIABLE, outputTail, serviceEnv, whileAlive } from '../support/processes';
import type { ServiceProcess } from '../support/processes';
import { TEST_DB_PREFIX, adminUrl, databaseUrlFor, runId } from '../setup/test-databases';

/**
 * The image, without a Docker engine: the build context rebuilt from .dockerignore, the Dockerfile's build
 * stage run in it, then every bundle started the way docker-compose.yml starts it (migrate first) against a
 * fresh database, each answering /health/ready, and a workspace created through the bundled gateway gets its
 * Lords from the bundled seeder.
 */
const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
  engines: { node: string };
};

describe('.dockerignore matching', () => {
  const rules = parseDockerignore('# c\n**/node_modules\ntest\n/bench/\n**/*.log\n.env.*\nkeep\n!keep/me\n');
  it.each([
    ['node_modules', true],
    ['shared/node_modules/x/index.js', true],
    ['test', true],
    ['test/integration/a.test.ts', true],
    ['shared/test/a.ts', false], // a pattern without ** is anchored at the context root
    ['bench/run.ts', true],
    ['services/gateway/out.log', true],
    ['.env.local', true],
    ['.env', false],
    ['keep/other', true],
    ['keep/me', false],
    ['shared/core/src/config/settings.ts', false],
  ])('%s → ignored %s', (rel, expected) => expect(isIgnored(rules, rel)).toBe(expected));
});

describe('the image', () => {
  it('runs a Node.js major that package.json engines accepts, the same in every stage', () => {
    const bases = dockerStages(dockerfile)
      .map((s) => s.base)
      .filter((b) => b.startsWith('node:'));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    const majors = new Set(bases.map((b) => Number(/^node:(\d+)/.exec(b)?.[1])));
    expect([...majors]).toEqual([24]);
    // engines is ">=20.19 <25": the oldest still-supported line for development, the image's for production.
    const [, lowMajor, highMajor] = /^>=(\d+)\.\d+ <(\d+)$/.exec(rootPkg.engines.node) ?? [];
    expect(Number(lowMajor)).toBeLessThanOrEqual(24);
    expect(Number(highMajor)).toBeGreaterThan(24);
  });
});

describe('the deps stage', () => {
  it("copies every workspace's package.json, without which its npm ci fails", () => {
    const deps = dockerStages(dockerfile).find((s) => s.name === 'deps');
    const copied = new Set(deps?.copies.flat());
    const manifests = [
      'package.json',
      'package-lock.json',
      ...rootPkg.workspaces.map((w) => `${w}/package.json`),
    ];
    expect(manifests.filter((m) => !copied.has(m))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  // Line-based on purpose: no YAML parser is a declared dependency, and CI validates the whole file with
  // `docker-compose config` (.ci/run). Service blocks are the two-space-indented keys under `services:`.
  const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const servicesPart = compose.slice(compose.indexOf('\nservices:\n'), compose.indexOf('\nvolumes:\n'));
  const blocks = Object.fromEntries(
    servicesPart
      .split(/\n(?= {2}[a-z][a-z-]*:\n)/)
      .slice(1)
      .map((b) => [/^ {2}([a-z-]+):/.exec(b)![1]!, b]),
  );

  it('publishes only the gateway to the host; worker health/metrics ports stay in the network', () => {
    expect(Object.keys(blocks)).toEqual(
      expect.arrayContaining(['gateway', 'seeder', 'agent-runner', 'cost-ledger']),
    );
    const published = Object.keys(blocks).filter((name) => /^ {4}ports:/m.test(blocks[name]!));
    const optional = (name: string) => /^ {4}profiles:/m.test(blocks[name]!);
    expect(published.filter((name) => !optional(name))).toEqual(['gateway']);
    // The observability profile's UIs (Prometheus, Grafana) are published on loopback only.
    for (const name of published.filter(optional)) {
      const list = /^ {4}ports:\n((?: {6}- .*(?:\n|$))+)/m.exec(blocks[name]!)![1]!;
      const ports = [...list.matchAll(/^ {6}- ["']?([^"'\n]+)["']?$/gm)].map((m) => m[1]!);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('requires METRICS_TOKEN for the gateway and runs PostgreSQL with pgvector', () => {
    expect(blocks.gateway).toMatch(/^ {6}METRICS_TOKEN: \$\{METRICS_TOKEN:\?[^}]+\}$/m);
    expect(blocks.postgres).toMatch(/^ {4}image: pgvector\/pgvector:pg\d+$/m);
  });
});

describe('bundles built from the Docker build context', () => {
  let ctx = '';
  const children: Array<{ name: string; child: ServiceProcess }> = [];
  const database = `${TEST_DB_PREFIX}_${runId()}_image`;
  const databaseUrl = () => databaseUrlFor(database, adminUrl());

  beforeAll(async () => {
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'raptorflow-image-'));
    const root = createDatabase({ url: adminUrl(), poolMax: 1 });
    // An empty database, so the bundled migrate builds the whole schema; global teardown drops it (prefix).
    await root.raw(`CREATE DATABASE ${database}`).finally(() => root.destroy());
  });

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(({ child }) => waitForExit(child, 5_000)));
    if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
  }, 30_000);

  /** `node <script>` from the context root, as the image's WORKDIR /app, output captured for failures. */
  function run(name: string, script: string, env: NodeJS.ProcessEnv): ServiceProcess {
    const child = spawn(process.execPath, [script], { cwd: ctx, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    for (const s of [child.stdout, child.stderr])
      readline.createInterface({ input: s }).on('line', (l) => lines.length < 2_000 && lines.push(l));
    const proc = Object.assign(child, { output: lines });
    children.push({ name, child: proc });
    return proc;
  }

  it('builds with the build stage commands, ships no benchmarks, migrates, and every service gets ready', async () => {
    const copied = copyBuildContext(ROOT, ctx);
    expect(copied).toContain('scripts/build.ts');
    expect(copied.some((f) => f.startsWith('bench/') || f.startsWith('test/'))).toBe(false);
    // Instead of the deps stage's `npm ci` (minutes, and the network): links to this checkout's installed
    // packages. Only node_modules is borrowed; every source file is the context's copy.
    const deps = dockerStages(dockerfile).find((s) => s.name === 'deps');
    expect(deps?.runs).toEqual([expect.stringMatching(/^npm ci\b/)]);
    linkInstalledModules(ROOT, ctx, ['', ...rootPkg.workspaces]);

    const build = dockerStages(dockerfile).find((s) => s.name === 'build');
    expect(build?.runs.length).toBeGreaterThan(0);
    for (const cmd of build!.runs) {
      const res = spawnSync('sh', ['-c', cmd], {
        cwd: ctx,
        encoding: 'utf8',
        // The Node running this test is the one the build uses (CI runs the suite on Node 20 and on 24).
        env: {
          ...process.env,
          PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
        },
        timeout: 120_000,
      });
      if (res.status !== 0)
        throw new Error(
          `\`${cmd}\` failed in the build context (${res.status}):\n${res.stdout}\n${res.stderr}`,
        );
    }
    expect(fs.existsSync(path.join(ctx, 'dist', 'bench'))).toBe(false);
    // The build stage builds the console too (web/dist ships in the image), when the context has its sources.
    const withConsole = fs.existsSync(path.join(ctx, 'web', 'index.html'));
    if (withConsole) expect(fs.existsSync(path.join(ctx, 'web', 'dist', 'index.html'))).toBe(true);

    const env = serviceEnv({ DATABASE_URL: databaseUrl(), NODE_ENV: 'production' });
    const migrate = run('migrate', 'dist/scripts/migrate.js', env);
    await waitForExit(migrate, 60_000);
    if (migrate.exitCode !== 0)
      throw new Error(`migrate exited ${migrate.exitCode}:\n${migrate.output.join('\n')}`);
    expect(migrate.output.join('\n')).toMatch(/^applied: /m);

    const services = fs
      .readdirSync(path.join(ctx, 'services'))
      .filter((d) => fs.existsSync(path.join(ctx, 'services', d, 'package.json'))) as ServiceName[];
    expect(services.sort()).toEqual(Object.keys(PORT_VARIABLE).sort());
    const urls = {} as Record<ServiceName, string>;
    await Promise.all(
      services.map(async (name) => {
        const port = await freePort();
        urls[name] = `http://127.0.0.1:${port}`;
        const child = run(name, `services/${name}/dist/main.js`, {
          ...env,
          [PORT_VARIABLE[name]]: String(port),
        });
        await whileAlive(name, child, waitForHttp(`${urls[name]}/health/ready`, 45_000)).catch(
          (err: Error) => {
            throw new Error(`${name}: ${err.message}\n${outputTail(child)}`);
          },
        );
      }),
    );

    // Ready is not yet working: one request across gateway → outbox/queue → seeder, all from the bundles.
    const user = await newUser();
    const api = client(urls.gateway, user.token);
    const ws = await api.post('/v1/workspaces', { name: 'From the image bundles' });
    expect(ws.status).toBe(201);
    const agents = await eventually(async () => {
      const res = await api.get('/v1/agents', { headers: { 'x-workspace-id': ws.body.id } });
      return res.body.data?.length === 7 && res.body.data;
    }, 20_000);
    expect(agents.map((a: { key: string }) => a.key).sort()).toHaveLength(7);
    // The services that search memory say how (this PostgreSQL has no pgvector: the exact scan).
    for (const name of ['gateway', 'agent-runner'] as const)
      expect([name, ((await client(urls[name]).get('/health')).body as any).checks.memory]).toEqual([
        name,
        { search_path: 'exact' },
      ]);

    // The bundled gateway finds the console where the image has it (web/dist beside services/).
    const page = await fetch(`${urls.gateway}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(withConsole ? 200 : 404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    if (withConsole) expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    // SIGTERM, as `docker compose stop` sends it: every bundle drains and exits 0.
    const running = children.filter(({ name }) => name !== 'migrate');
    for (const { child } of running) child.kill('SIGTERM');
    await Promise.all(running.map(({ child }) => waitForExit(child, 30_000)));
    expect(running.map(({ name, child }) => [name, child.exitCode])).toEqual(
      running.map(({ name }) => [name, 0]),
    );
  }, 120_000);
});
