import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SCHEMA = path.join(ROOT, 'web/src/api/schema.d.ts');

/** The generator in a child process: openapi-typescript is an ES module of the web workspace. */
function generate(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'gen-web-api.ts'), '--stdout'],
      { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it("the console's API types (web/src/api/schema.d.ts) are generated from the current OpenAPI document", async () => {
  const { code, stdout, stderr } = await generate();
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('export interface paths');
  const committed = fs.readFileSync(SCHEMA, 'utf8');
  // On failure: `npm run gen:api` and commit web/src/api/schema.d.ts.
  expect(committed === stdout ? 'current' : 'stale: run npm run gen:api').toBe('current');
}, 60_000);
