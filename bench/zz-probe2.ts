import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ROOT, ensurePostgres } from '../scripts/lib/local-stack';

async function main() {
  const pg = await ensurePostgres(process.env, path.join(ROOT, '.data', 'bench'), 'postgres');
  const dbName = `raptorflow_probe_${Date.now().toString(36)}`;
  const u = new URL(pg.url); u.pathname = `/${dbName}`;
  Object.assign(process.env, { ENVIRONMENT: 'test', LOG_LEVEL: 'warn', DATABASE_URL: u.toString(), QUEUE_PREFIX: `{probe-${randomUUID().slice(0,8)}}`, MIGRATE_ON_START: 'false' });
  const shared = await import('../shared/src');
  const root = shared.createDatabase({ url: pg.url, poolMax: 1 });
  await root.raw(`CREATE DATABASE ${dbName}`);
  const db = shared.createDatabase({ poolMax: 10 });
  try {
    await shared.migrateLatest(db);
    const [ws] = await db('workspaces').insert({ name: 'p', created_by: randomUUID() }).returning('id');
    await db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: 1000000 });
    const settings = shared.parseSettings({ ...process.env, LLM_PROVIDER: 'local' }).llm;
    const bus = new shared.RaptorBus({ db });
    const dispatcher = new shared.ModelDispatcher({ settings, router: new shared.ModelRouter({ settings }), ledger: new shared.BudgetLedgerService({ db, reservationTtlMs: settings.reservationTtlMs, defaultBudgetUsd: 50 }), trail: new shared.DispatchTrailService({ db, bus }) });
    const tool = shared.createModelDispatchTool({ workspace_id: ws.id }, { dispatcher });
    const prompt = 'Research topic: bench topic 1\n\n' + 'Answer each research question below in two or three sentences. '.repeat(5);
    const sys = 'You are Cognition, the Lord of research. '.repeat(4);
    const time = async (label: string, f: () => Promise<unknown>) => {
      for (let i = 0; i < 100; i++) await f();
      const lat: number[] = [];
      for (let i = 0; i < 300; i++) { const t = performance.now(); await f(); lat.push(performance.now() - t); }
      lat.sort((a, b) => a - b);
      console.log(label, 'p50', lat[150]!.toFixed(2), 'p99', lat[297]!.toFixed(2));
    };
    await time('dispatch standard 1500', () => dispatcher.dispatch({ model: 'standard', system: sys, messages: [{ role: 'user', content: prompt }], maxTokens: 1500 }, { workspaceId: ws.id }));
    await time('tool.invoke standard 1500', () => tool.invoke({ model: 'standard', system: sys, prompt, max_tokens: 1500 }));
    const nob = new shared.ModelDispatcher({ settings, router: new shared.ModelRouter({ settings }), budgetEnforcement: false, trail: new shared.DispatchTrailService({ db, bus }) });
    await time('dispatch budgets off', () => nob.dispatch({ model: 'standard', system: sys, messages: [{ role: 'user', content: prompt }], maxTokens: 1500 }, { workspaceId: ws.id }));
    await bus.close();
  } finally {
    await shared.closeRedisConnections();
    await db.destroy();
    await root.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await root.destroy();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
