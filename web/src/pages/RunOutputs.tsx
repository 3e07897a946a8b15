import type { ReactNode } from 'react';

/**
 * A run's output as its flow writes it (services/agent-runner/src/flows/*.flow.ts `output()`), read
 * defensively: the API types it as a JSON object, so every field is checked before it is shown.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

interface Violation {
  kind: string;
  text: string;
}

interface Verdict {
  verdict: string;
  violations: Violation[];
}

function verdictOf(v: unknown): Verdict | null {
  if (!isObj(v) || typeof v.verdict !== 'string') return null;
  return {
    verdict: v.verdict,
    violations: arr(v.violations)
      .filter(isObj)
      .map((x) => ({ kind: str(x.kind) ?? 'violation', text: str(x.text) ?? '' })),
  };
}

const VIOLATION_KIND: Record<string, string> = {
  banned_phrase: 'Banned phrase',
  banned_claim: 'Banned claim',
  missing_disclaimer: 'Missing disclaimer',
};

export function VerdictView({ verdict, label }: { verdict: Verdict; label: string }) {
  const pass = verdict.verdict === 'pass';
  return (
    <div className={`verdict ${pass ? 'verdict-pass' : 'verdict-fail'}`}>
      <p>
        {label}: <strong>{pass ? 'pass' : 'fail'}</strong>
        {pass && verdict.violations.length === 0 && ' — no rule was broken.'}
      </p>
      {verdict.violations.length > 0 && (
        <ul aria-label={`${label} violations`}>
          {verdict.violations.map((v, i) => (
            <li key={i}>
              {VIOLATION_KIND[v.kind] ?? v.kind}: “{v.text}”
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = `out-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return (
    <section aria-labelledby={id} className="output-section">
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

function Copy({ text }: { text: string }) {
  return (
    <div className="copy">
      {text.split(/\n{2,}/).map((p, i) => (
        <p key={i}>{p}</p>
      ))}
    </div>
  );
}

function Recalled({ items }: { items: unknown[] }) {
  const list = items.filter(isObj);
  return (
    <Section title="Recalled from memory">
      {list.length === 0 ? (
        <p className="muted">Nothing relevant was in the Council’s memory.</p>
      ) : (
        <ul className="memory-hits">
          {list.map((r, i) => (
            <li key={str(r.id) ?? i}>
              <p>
                <span className="tag">{str(r.kind) ?? 'item'}</span> {str(r.content)}
              </p>
              <p className="muted small">
                score {num(r.score)?.toFixed(4) ?? '—'} · similarity{' '}
                {num(r.similarity) === null ? 'none' : num(r.similarity)!.toFixed(3)}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Research({ out }: { out: Obj }) {
  const brief = isObj(out.brief) ? out.brief : null;
  const findings = arr(out.findings).filter(isObj);
  return (
    <>
      <Section title="Research brief">
        {brief ? (
          <>
            <p>{str(brief.summary)}</p>
            {strings(brief.key_points).length > 0 && (
              <>
                <h4>Key points</h4>
                <ul>
                  {strings(brief.key_points).map((p, i) => (
                    <li key={i}>{p}</li>
                  ))}
                </ul>
              </>
            )}
            {strings(brief.next_steps).length > 0 && (
              <>
                <h4>Next steps</h4>
                <ol>
                  {strings(brief.next_steps).map((p, i) => (
                    <li key={i}>{p}</li>
                  ))}
                </ol>
              </>
            )}
          </>
        ) : (
          <p className="muted">No brief was written.</p>
        )}
      </Section>
      <Section title="Findings">
        {findings.length === 0 ? (
          <p className="muted">No findings.</p>
        ) : (
          <dl className="findings">
            {findings.map((f, i) => (
              <div key={i}>
                <dt>{str(f.question)}</dt>
                <dd>{str(f.finding)}</dd>
              </div>
            ))}
          </dl>
        )}
      </Section>
      <Recalled items={arr(out.recalled)} />
      {strings(out.remembered).length > 0 && (
        <p className="muted small">
          {strings(out.remembered).length} item{strings(out.remembered).length === 1 ? '' : 's'} remembered
          for the next research.
        </p>
      )}
    </>
  );
}

function Muse({ out }: { out: Obj }) {
  const first = verdictOf(out.guardian);
  const final = isObj(out.final) ? out.final : null;
  const finalVerdict = verdictOf(final);
  const revised = str(out.revised);
  return (
    <>
      <Section title="Final copy">
        {final && str(final.content) ? (
          <Copy text={str(final.content)!} />
        ) : (
          <p className="muted">No copy.</p>
        )}
        {finalVerdict && <VerdictView verdict={finalVerdict} label="Final guardian verdict" />}
      </Section>
      <Section title="First draft">
        {str(out.draft) ? <Copy text={str(out.draft)!} /> : <p className="muted">No draft.</p>}
        {first && <VerdictView verdict={first} label="Guardian verdict on the draft" />}
      </Section>
      {revised !== null && (
        <Section title="Revision">
          <p className="muted small">The draft was flagged, so it was revised once.</p>
          <Copy text={revised} />
        </Section>
      )}
      <Recalled items={arr(out.recalled)} />
    </>
  );
}

function Matrix({ out }: { out: Obj }) {
  const plan = isObj(out.plan) ? out.plan : null;
  const tasks = arr(out.tasks)
    .filter(isObj)
    .map((t) => ({ week: num(t.week) ?? 0, task: str(t.task) ?? '' }))
    .sort((a, b) => a.week - b.week);
  const verdict = verdictOf(out.guardian);
  return (
    <>
      <Section title="Campaign plan">
        {plan ? (
          <>
            <p>{str(plan.summary)}</p>
            {strings(plan.phases).length > 0 && (
              <ol aria-label="Phases">
                {strings(plan.phases).map((p, i) => (
                  <li key={i}>{p}</li>
                ))}
              </ol>
            )}
          </>
        ) : (
          <p className="muted">No plan.</p>
        )}
        <p className="muted small">
          Horizon {num(out.horizon_weeks) ?? '—'} weeks
          {num(out.budget_usd) !== null && ` · budget $${num(out.budget_usd)!.toLocaleString('en-US')}`}
        </p>
      </Section>
      <Section title="Tasks by week">
        {tasks.length === 0 ? (
          <p className="muted">No tasks.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Week</th>
                <th scope="col">Task</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((t, i) => (
                <tr key={i}>
                  <td>{t.week}</td>
                  <td>{t.task}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {verdict && (
        <Section title="Guardian check of the plan">
          <VerdictView verdict={verdict} label="Guardian verdict" />
        </Section>
      )}
    </>
  );
}

function Guardian({ out }: { out: Obj }) {
  const verdict = verdictOf(out);
  const citations = arr(out.citations).filter(isObj);
  return (
    <>
      <Section title="Verdict">
        {verdict ? (
          <VerdictView verdict={verdict} label="Guardian verdict" />
        ) : (
          <p className="muted">No verdict.</p>
        )}
      </Section>
      {citations.length > 0 && (
        <Section title="Decisions cited">
          <ul>
            {citations.map((c, i) => (
              <li key={str(c.id) ?? i}>
                {str(c.content)} <span className="muted small">(score {num(c.score)?.toFixed(4)})</span>
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}

export function RunOutput({ flow, output }: { flow: string; output: Record<string, unknown> }) {
  switch (flow) {
    case 'research':
      return <Research out={output} />;
    case 'muse':
      return <Muse out={output} />;
    case 'matrix':
      return <Matrix out={output} />;
    case 'guardian':
      return <Guardian out={output} />;
    default:
      return <pre className="json">{JSON.stringify(output, null, 2)}</pre>;
  }
}
