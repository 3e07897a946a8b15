import type { ConsoleConfig, ModelAliasInfo } from '../api/types';

/**
 * Shown on every screen while models run on the offline stand-in: its answers are placeholders, and the
 * variables that turn real models on are named.
 */
export function StandInBanner({ config }: { config: ConsoleConfig }) {
  if (!config.models.stand_in) return null;
  const local = config.models.aliases.filter((a) => a.mode === 'local').map((a) => a.alias);
  const ways = config.models.enable_with;
  return (
    <section className="banner banner-warning" aria-label="Offline models">
      <p>
        <strong>Models are running on the offline stand-in.</strong>{' '}
        {local.length > 0 && (
          <>The {local.join(', ')} models answer with placeholder text, labelled “stand-in”. </>
        )}
        {ways.length === 0 && 'Configure a model provider and restart the services to use real models.'}
        {ways.length === 1 && (
          <>
            To use real models, set <Variables text={ways[0]!} /> and restart the services.
          </>
        )}
      </p>
      {ways.length > 1 && (
        <>
          <p>To use real models, set these and restart the services:</p>
          <ul>
            {ways.map((w) => (
              <li key={w}>
                <Variables text={w} />
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** "GEMINI_API_KEY or …": the variable names set as code, the rest as the sentence it is. */
export function Variables({ text }: { text: string }) {
  const parts = text.split(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])\b/g);
  return <>{parts.map((p, i) => (i % 2 === 1 ? <code key={i}>{p}</code> : <span key={i}>{p}</span>))}</>;
}

/** The alias's entry in the console config, if the alias is one (`fast`, `standard`, `heavy`, `embed`). */
export function aliasInfo(
  config: ConsoleConfig,
  alias: string | null | undefined,
): ModelAliasInfo | undefined {
  return alias ? config.models.aliases.find((a) => a.alias === alias) : undefined;
}

/** Whether a model (an alias or a model id) is answered by the stand-in, per the console config. */
export function isStandInModel(config: ConsoleConfig, model: string | null | undefined): boolean {
  if (!model) return false;
  const byAlias = aliasInfo(config, model);
  if (byAlias) return byAlias.mode === 'local';
  return config.models.aliases.some((a) => a.model === model && a.mode === 'local');
}

export function StandInTag({ label = 'stand-in' }: { label?: string }) {
  return (
    <span className="tag tag-standin" title="Answered by the offline stand-in model">
      {label}
    </span>
  );
}
