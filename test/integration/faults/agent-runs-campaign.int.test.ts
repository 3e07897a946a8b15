import { waitForExit } from '../../../scripts/lib/service-process';
import { client, eventually } from '../../support/http';
import { lordsTeam, runsClient } from '../../support/agent-runs';
import { FAST_RECOVERY_ENV, serviceEnv, useServices } from '../../support/processes';
import type { RunningService } from '../../support/processes';

/**
 * Issue 18 items 2 and 3 through the API, with real gateway and agent-runner processes on the offline stand-in:
 * a campaign (Strategos) runs its five stages as child runs and costs what they cost; a runner SIGKILLed in the
 * middle of a campaign is replaced and no finished child is created or run again; a run paused at an approval
 * gate survives a runner restart holding no lease, then resumes on approve/edit and ends on reject; an approval
 * nobody decides expires. Short lock, stalled-check and lease settings make recovery take seconds.
 */
const { stack, services } = useServices();
let gateway: RunningService;

const env = (extra: Record<string, string> = {}) =>
  serviceEnv({
    LLM_PROVIDER: 'local',
    ...FAST_RECOVERY_ENV,
    ...extra,
  });

beforeAll(async () => {
  gateway = await services.start('gateway', env());
}, 60_000);

const CAMPAIGN = {
  agent: 'strategos',
  flow: 'campaign',
  input: { objective: 'Launch oat milk in Nordic cafés', channels: ['linkedin'], horizon_weeks: 2 },
  model: 'fast',
};
const STAGES = ['research', 'plan', 'draft', 'compliance', 'messaging:linkedin'];
const ENDED = ['completed', 'failed', 'cancelled'];

async function stopped(runner: RunningService): Promise<void> {
  runner.child.kill('SIGTERM');
  await waitForExit(runner.child, 15_000);
}

/** Sum of decimal strings as nano-USD (exact). */
const nano = (d: string | number) => BigInt(Math.round(Number(d) * 1e9));

describe('a campaign', () => {
  it('completes with five child runs (each on its own and in its timeline) and costs the sum of theirs', async () => {
    const runner = await services.start('agent-runner', env());
    const team = await lordsTeam(stack.db);
    const runs = runsClient(gateway.url, team.owner, team.ws);
    const id = await runs.create(CAMPAIGN as never);
    const run = await runs.until(id, ENDED, 90_000);
    expect(run).toMatchObject({
      status: 'completed',
      flow: 'campaign',
      agent: 'strategos',
      parent_run_id: null,
    });
    expect(run.children.map((c: { stage: string }) => c.stage)).toEqual(STAGES);
    expect(run.children.map((c: { agent: string }) => c.agent)).toEqual([
      'cognition',
      'strategos',
      'aesthete',
      'arbiter',
      'herald',
    ]);
    expect(run.children.every((c: { status: string }) => c.status === 'completed')).toBe(true);
    const childTotal = run.children.reduce((s: bigint, c: { cost_usd: number }) => s + nano(c.cost_usd), 0n);
    expect(nano(run.cost_usd)).toBe(childTotal);
    expect(childTotal).toBeGreaterThan(0n);
    // Exact, in the database: the parent's cost is its children's and it made no call of its own.
    const rows = await stack.db('agent_runs').where({ parent_run_id: id }).select('cost_usd');
    const parent = await stack.db('agent_runs').where({ id }).first();
    expect(parent.children_cost_usd).toBe(parent.cost_usd);
    expect(nano(parent.cost_usd)).toBe(rows.reduce((s, r) => s + nano(r.cost_usd), 0n));
    expect(await stack.db('cost_logs').where({ agent_run_id: id }).first()).toBeUndefined();
    // Each child is a run of its own, pointing at its parent.
    const child = await runs.get(run.children[0].id);
    expect(child).toMatchObject({
      parent_run_id: id,
      stage: 'research',
      status: 'completed',
      flow: 'research',
    });
    // The parent's timeline lists each child queued and finished.
    const events = await stack.db('agent_run_events').where({ run_id: id }).orderBy('id');
    const timeline = events
      .filter((e) => e.type.startsWith('child.'))
      .map((e) => `${e.type}:${e.data.stage}`);
    expect(timeline).toEqual(STAGES.flatMap((s) => [`child.queued:${s}`, `child.finished:${s}`]));
    // The output carries each stage's result.
    expect(run.output).toMatchObject({ channels: ['linkedin'], messages: [{ channel: 'linkedin' }] });
    // Statistics count the tree's spend once (at the children).
    const stats = (await client(gateway.url, team.owner.token).get('/v1/agent-runs/stats', team.h)).body;
    expect(nano(stats.cost_usd.total)).toBe(childTotal);
    await stopped(runner);
  }, 120_000);

  it('a runner SIGKILLed mid-campaign: a new one resumes it, no finished child is created or run again', async () => {
    const runner = await services.start('agent-runner', env());
    const team = await lordsTeam(stack.db);
    const runs = runsClient(gateway.url, team.owner, team.ws);
    const id = await runs.create(CAMPAIGN as never);
    // Killed once the research child has finished and the plan child exists.
    const research = await eventually(async () => {
      const plan = await stack.db('agent_runs').where({ parent_run_id: id, stage: 'plan' }).first();
      return plan && (await stack.db('agent_runs').where({ parent_run_id: id, stage: 'research' }).first());
    }, 60_000);
    runner.child.kill('SIGKILL');
    await waitForExit(runner.child, 10_000);
    expect(research.status).toBe('completed');
    const researchCosts = await stack
      .db('cost_logs')
      .where({ agent_run_id: research.id })
      .count('* as n')
      .first();

    const restarted = await services.start('agent-runner', env());
    const run = await runs.until(id, ENDED, 90_000);
    expect(run.status).toBe('completed');
    // One child per stage, the finished research child untouched: one claim, same cost rows, steps run once.
    const children = await stack.db('agent_runs').where({ parent_run_id: id });
    expect(children.map((c) => c.stage).sort()).toEqual([...STAGES].sort());
    const again = children.find((c) => c.stage === 'research')!;
    expect(again).toMatchObject({ id: research.id, attempts: 1, completed_at: research.completed_at });
    expect(await stack.db('cost_logs').where({ agent_run_id: research.id }).count('* as n').first()).toEqual(
      researchCosts,
    );
    const steps = await stack.db('agent_run_steps').where({ run_id: research.id });
    expect(steps.every((s) => s.attempts === 1)).toBe(true);
    expect(nano(run.cost_usd)).toBe(children.reduce((s, c) => s + nano(c.cost_usd), 0n));
    await stopped(restarted);
  }, 150_000);
});

describe('approval', () => {
  const FLAGGED = { agent: 'arbiter', input: { content: 'Our miracle oat milk cures everything.' } };

  async function flaggedTeam() {
    const team = await lordsTeam(stack.db);
    const c = client(gateway.url, team.owner.token);
    const rules = { banned_phrases: ['miracle'], banned_claims: [], required_disclaimers: [] };
    expect((await c.call('PUT', `/v1/workspaces/${team.ws.id}/guardrails`, { body: rules })).status).toBe(
      200,
    );
    return { team, runs: runsClient(gateway.url, team.owner, team.ws) };
  }

  const decide = (url: string, token: string, ws: string, id: string, body: unknown) =>
    client(url, token).post(`/v1/agent-runs/${id}/approval`, body, { headers: { 'x-workspace-id': ws } });

  it('survives a runner restart (no lease, no slot), resumes on approve and on edit, ends on reject', async () => {
    const runner = await services.start('agent-runner', env());
    const { team, runs } = await flaggedTeam();
    const [approveId, editId, rejectId] = [
      await runs.create(FLAGGED),
      await runs.create(FLAGGED),
      await runs.create(FLAGGED),
    ];
    for (const id of [approveId, editId, rejectId])
      await runs.until(id, ['awaiting_approval', ...ENDED], 30_000);
    runner.child.kill('SIGKILL');
    await waitForExit(runner.child, 10_000);

    const waiting = await runs.get(approveId);
    expect(waiting.status).toBe('awaiting_approval');
    expect(waiting.approvals).toMatchObject([
      {
        gate: 'approval',
        decision: null,
        request: { reason: 'flagged', violations: [{ kind: 'banned_phrase' }] },
      },
    ]);
    const row = await stack.db('agent_runs').where({ id: approveId }).first();
    expect(row).toMatchObject({ lease_owner: null, lease_expires_at: null });

    // Refusals: a member may not decide (403); a bad body names its field (422); nothing changed.
    const ws = team.ws.id;
    expect(
      (await decide(gateway.url, team.member.token, ws, approveId, { decision: 'approve' })).status,
    ).toBe(403);
    const bad = await decide(gateway.url, team.admin.token, ws, editId, { decision: 'edit' });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('body.content');
    const other = await decide(gateway.url, team.admin.token, ws, approveId, { decision: 'maybe' });
    expect(JSON.stringify(other.body)).toContain('body.decision');

    const restarted = await services.start('agent-runner', env());
    // Still waiting with a runner up again: nothing resumes it but a decision.
    expect((await runs.get(approveId)).status).toBe('awaiting_approval');

    const ok = await decide(gateway.url, team.admin.token, ws, approveId, {
      decision: 'approve',
      note: 'fine',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: approveId, status: 'running', approval: { decision: 'approve' } });
    const edited = 'Our oat milk, loved in cafés.';
    const ed = await decide(gateway.url, team.owner.token, ws, editId, { decision: 'edit', content: edited });
    expect(ed.status).toBe(200);
    expect((await decide(gateway.url, team.owner.token, ws, rejectId, { decision: 'reject' })).status).toBe(
      200,
    );

    const approved = await runs.until(approveId, ENDED, 30_000);
    expect(approved).toMatchObject({
      status: 'completed',
      output: { verdict: 'fail', approval: { decision: 'approve' } },
    });
    const editedRun = await runs.until(editId, ENDED, 30_000);
    expect(editedRun.output.approval).toMatchObject({ decision: 'edit', content: edited });
    const rejected = await runs.until(rejectId, ENDED, 30_000);
    expect(rejected).toMatchObject({ status: 'failed', error: { code: 'approval_rejected' } });
    // Decided once: a second decision is a conflict.
    expect((await decide(gateway.url, team.owner.token, ws, approveId, { decision: 'reject' })).status).toBe(
      409,
    );
    const audits = await stack
      .db('audit_logs')
      .where({ action: 'agent_run.approval_decided', workspace_id: ws });
    expect(audits).toHaveLength(3);
    await stopped(restarted);
  }, 120_000);

  it('an approval nobody decides expires: the run fails with approval_expired', async () => {
    const runner = await services.start('agent-runner', env());
    const { runs } = await flaggedTeam();
    const id = await runs.create(FLAGGED);
    await runs.until(id, ['awaiting_approval'], 30_000);
    // Its deadline, moved into the past (instead of waiting out AGENT_APPROVAL_TTL_MS): the sweeper ends it.
    await stack
      .db('agent_run_approvals')
      .where({ run_id: id })
      .update({ expires_at: stack.db.raw(`now() - interval '1 second'`) });
    const run = await runs.until(id, ENDED, 30_000);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'approval_expired' } });
    expect(run.approvals[0].decision).toBe('expired');
    await stopped(runner);
  }, 60_000);
});
