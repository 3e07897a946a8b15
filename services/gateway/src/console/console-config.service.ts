import { CREDENTIAL_VARIABLES } from '@raptorflow/core/config/llm-settings';
import type { Environment, LlmSettings } from '@raptorflow/core/config/settings';
import type { ModelRouter } from '@raptorflow/llm/model-router';
import type { DevSessionService } from './dev-session.service';
import type { LoopbackRequest } from './loopback-only.guard';

export interface ConsoleConfig {
  environment: Environment;
  auth: {
    supabase: { url: string; anon_key: string } | null;
    dev_login: boolean;
  };
  models: {
    stand_in: boolean;
    aliases: Array<{ alias: string; model: string; provider: string; mode: 'live' | 'local' }>;
    enable_with: string[];
  };
}

export interface ConsoleConfigServiceOptions {
  environment: Environment;
  supabaseUrl: string | undefined;
  /** Public by design (Supabase's anon key): the browser needs it to talk to Supabase Auth. */
  supabaseAnonKey: string | undefined;
  llm: LlmSettings;
  router: ModelRouter;
  devSessions: DevSessionService;
}

/**
 * What the console reads before anyone signs in: how to sign in (Supabase, the development session, or
 * both) and whether its answers come from real models, so it can say so instead of presenting the offline
 * stand-in's text as real output. Nothing here is secret.
 */
export class ConsoleConfigService {
  constructor(private readonly opts: ConsoleConfigServiceOptions) {}

  forRequest(req: LoopbackRequest): ConsoleConfig {
    const { supabaseUrl, supabaseAnonKey, router } = this.opts;
    const aliases = router
      .aliasStatus()
      .map(({ alias, model, provider, mode }) => ({ alias, model, provider, mode }));
    const standIn = aliases.some((a) => a.mode === 'local');
    return {
      environment: this.opts.environment,
      auth: {
        supabase: supabaseUrl && supabaseAnonKey ? { url: supabaseUrl, anon_key: supabaseAnonKey } : null,
        // Asked per request: the button is only offered where the session would really be opened.
        dev_login: this.opts.devSessions.allows(req),
      },
      models: { stand_in: standIn, aliases, enable_with: standIn ? this.enableWith() : [] },
    };
  }

  /** The settings that would turn the stood-in providers real, as an operator should read them. */
  private enableWith(): string[] {
    const { llm, router } = this.opts;
    const served = router.describe();
    const used = (['gemini', 'anthropic'] as const).filter(
      (p) =>
        served[p] === 'local' &&
        Object.values(llm.aliases).some((chain) => chain.some((r) => r.provider === p)),
    );
    return [
      ...(llm.mode === 'local' ? ['LLM_PROVIDER=auto (LLM_PROVIDER=local stands in for every model)'] : []),
      ...used.map((p) => CREDENTIAL_VARIABLES[p]),
    ];
  }
}
