// npm run build [-- --bench] — bundles each service's src/main.ts into services/<name>/dist/main.js (and the
// migrate script into dist/scripts/migrate.js) so that `node services/<name>/dist/main.js` runs without tsx,
// then builds the console (`npm run build:web` → web/dist, which the gateway serves at `/`).
// `--bench` also bundles the benchmark's gateway server; without it the build needs nothing from bench/, which
// .dockerignore keeps out of the image.
// Our own code (services, the @raptorflow/* packages under shared/, migrations included) is bundled; every third-party npm package declared
// in a package.json stays external and is loaded from node_modules at run time.
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import type { BuildOptions, Plugin } from 'esbuild';
import { buildConsole, consoleSourcesPresent } from './lib/console-build';

const ROOT = path.resolve(__dirname, '..');

interface PackageJson {
  name?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

const rootPkg = readPackage(ROOT);
const workspaceDirs = (rootPkg.workspaces ?? []).map((w) => path.join(ROOT, w));
const workspacePkgs = workspaceDirs.map(readPackage);
const workspaceNames = new Set(workspacePkgs.map((p) => p.name).filter((n): n is string => Boolean(n)));

/** Every third-party package named in the root's or a workspace's package.json. */
const thirdParty = new Set<string>();
for (const pkg of [rootPkg, ...workspacePkgs]) {
  for (const deps of [
    pkg.dependencies,
    pkg.devDependencies,
    pkg.optionalDependencies,
    pkg.peerDependencies,
  ]) {
    for (const name of Object.keys(deps ?? {})) if (!workspaceNames.has(name)) thirdParty.add(name);
  }
}

/** 'pino-pretty/lib/x' → 'pino-pretty', '@scope/pkg/sub' → '@scope/pkg'; undefined for relative/absolute paths. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.startsWith('node:'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Third-party packages → external; workspace packages (@raptorflow/core, data, events, llm: TS source) → bundled.
 * A bare import that is in no package.json is an error: esbuild would otherwise quietly bundle whatever
 * happens to be hoisted in node_modules, and the image would break the day that changes.
 */
const externalThirdParty: Plugin = {
  name: 'external-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = packageName(args.path);
      if (name === undefined || workspaceNames.has(name)) return undefined;
      if (thirdParty.has(name)) return { path: args.path, external: true };
      // Builtins without the node: prefix (e.g. 'fs') are handled by platform: 'node'.
      if (isBuiltin(name)) return undefined;
      return {
        errors: [
          {
            text: `"${name}" is imported but not declared in any package.json (add it to the workspace's dependencies)`,
          },
        ],
      };
    });
  },
};

interface Target {
  label: string;
  entry: string;
  outfile: string;
}

const targets: Target[] = [];
// Services only: web/ (the console) is a workspace too, built by Vite below, never bundled by esbuild.
for (const dir of workspaceDirs.filter((d) => path.relative(ROOT, d).startsWith(`services${path.sep}`))) {
  const entry = path.join(dir, 'src', 'main.ts');
  if (!fs.existsSync(entry)) continue;
  targets.push({ label: path.relative(ROOT, dir), entry, outfile: path.join(dir, 'dist', 'main.js') });
}
targets.push({
  label: 'scripts/migrate',
  entry: path.join(ROOT, 'scripts', 'migrate.ts'),
  // Two levels below the root, like scripts/migrate.ts, so its ROOT (= __dirname/../..) still is the repo root.
  outfile: path.join(ROOT, 'dist', 'scripts', 'migrate.js'),
});
// The benchmark measures the gateway as production runs it: bundled, plain node, no TypeScript loader.
if (process.argv.includes('--bench')) {
  targets.push({
    label: 'bench/gateway-server',
    entry: path.join(ROOT, 'bench', 'gateway-server.ts'),
    outfile: path.join(ROOT, 'dist', 'bench', 'gateway-server.js'),
  });
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  // Error classes use new.target.name and Objection reports model class names; bundling may rename symbols.
  keepNames: true,
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: ROOT,
  tsconfig: path.join(ROOT, 'tsconfig.json'),
  plugins: [externalThirdParty],
};

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const started = performance.now();
  for (const t of targets) fs.rmSync(path.dirname(t.outfile), { recursive: true, force: true });

  const results = await Promise.all(
    targets.map(async (t) => {
      const t0 = performance.now();
      const result = await build({ ...common, entryPoints: [t.entry], outfile: t.outfile });
      const externals = new Set<string>();
      for (const out of Object.values(result.metafile!.outputs)) {
        for (const imp of out.imports) {
          const name = imp.external ? packageName(imp.path) : undefined;
          if (name) externals.add(name);
        }
      }
      return { t, ms: performance.now() - t0, externals };
    }),
  );

  const width = Math.max(...results.map((r) => path.relative(ROOT, r.t.outfile).length));
  for (const { t, ms, externals } of results) {
    const size = fs.statSync(t.outfile).size;
    const mapSize = fs.statSync(`${t.outfile}.map`).size;
    console.log(
      `  ${path.relative(ROOT, t.outfile).padEnd(width)}  ${kb(size).padStart(10)}  (map ${kb(mapSize)})  ` +
        `${Math.round(ms)} ms  external: ${[...externals].sort().join(', ') || '-'}`,
    );
  }
  console.log(`built ${results.length} bundles in ${Math.round(performance.now() - started)} ms`);
  await buildTheConsole();
}

/** The console ships with the gateway (the image serves web/dist): a failed console build fails the build. */
async function buildTheConsole(): Promise<void> {
  if (!consoleSourcesPresent()) {
    console.log(
      'console: web/index.html not found, so there is no console to build (the gateway runs without it)',
    );
    return;
  }
  console.log('console: npm run build:web');
  const result = await buildConsole((line) => console.log(`  ${line}`)).done;
  if (!result.ok) throw new Error(`the console build (npm run build:web) failed: ${result.reason}`);
  console.log(`console: built web/dist in ${result.ms} ms`);
}

main().catch((err: unknown) => {
  // esbuild has already printed the located errors; keep the summary short.
  console.error(`build failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
});
