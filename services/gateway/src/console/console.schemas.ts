import { z } from 'zod';

export const devSessionSchema = z.object({
  token: z
    .string()
    .meta({ description: 'A development JWT (HS256), sent as `Authorization: Bearer <token>`' }),
  user_id: z.uuid().meta({ description: 'The fixed development user: the same on every start' }),
  expires_at: z.iso.datetime(),
});

const aliasSchema = z.object({
  alias: z.string().meta({ example: 'fast' }),
  model: z.string().meta({ example: 'gemini-3.8-flash' }),
  provider: z.string().meta({ example: 'gemini', description: 'The configured provider' }),
  mode: z.enum(['live', 'local']).meta({ description: '`local`: answered by the offline stand-in' }),
});

export const consoleConfigSchema = z.object({
  environment: z.enum(['development', 'test', 'production']),
  auth: z.object({
    supabase: z.object({ url: z.url(), anon_key: z.string() }).nullable().meta({
      description: 'Supabase Auth for sign-in (the anon key is public by design); null when not set',
    }),
    dev_login: z.boolean().meta({
      description: 'Whether `POST /v1/dev/session` answers this client (development, a direct local request)',
    }),
  }),
  models: z.object({
    stand_in: z.boolean().meta({ description: 'Some alias is answered by the offline stand-in' }),
    aliases: z.array(aliasSchema),
    enable_with: z
      .array(z.string())
      .meta({ description: 'The settings that would turn the stood-in models real; empty when none are' }),
  }),
});
