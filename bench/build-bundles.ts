import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../scripts/lib/local-stack';

/** Services measured as bundles, as in production (under tsx every lazy require() pays for loader hooks). */
export function buildBundles(): void {
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'build.ts'), '--bench'],
    {
      cwd: ROOT,
      stdio: 'ignore',
    },
  );
  if (built.status !== 0) throw new Error('npm run build failed; run it to see why');
}
