// npm run token -- [--user <uuid>] [--ttl <seconds>] [--email <address>]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { getSettings } from '@raptorflow/core/config/settings';
import { mintDevToken } from '@raptorflow/core/auth/dev-token';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { user: { type: 'string' }, ttl: { type: 'string' }, email: { type: 'string' } },
  });
  const userId = values.user ?? randomUUID();
  if (!z.uuid().safeParse(userId).success) throw new Error(`--user must be a UUID, got "${userId}"`);
  const ttl = values.ttl === undefined ? 12 * 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error('--ttl must be a positive number of seconds');
  const settings = getSettings();
  if (settings.isProduction)
    throw new Error('npm run token mints development tokens; refusing in production');
  const token = await mintDevToken({
    userId,
    secret: settings.supabaseJwtSecret,
    audience: settings.jwtAudience,
    ttlSeconds: ttl,
    ...(values.email ? { email: values.email } : {}),
  });
  process.stderr.write(`user ${userId}, expires in ${ttl}s\n`);
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
