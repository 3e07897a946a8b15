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
    const { createInProcessResearch } = await import('./agent-runs-baseline');
    const { sequential } = await import('./agent-runs-measure');
    const agent = { id: randomUUID(), key: 'cognition', name: 'Cognition', domain: 'research', default_model: 'standard' };
    await db('agents').insert({ id: agent.id, workspace_id: ws.id, key: 'cognition', name: 'Cognition', domain: 'research', default_model: 'standard', default_flow: 'research' }).catch((e: Error) => console.log('agent insert', e.message));
    const flow = createInProcessResearch({ db, workspaceId: ws.id, agent, latencyMs: 0, checkpointer: 'memory' });
    await sequential(flow.run, 50);
    const s = await sequential(flow.run, 200);
    console.log('baseline seq p50', s.p50.toFixed(1), 'p99', s.p99.toFixed(1));
    await flow.close();
  } finally {
    await shared.closeRedisConnections();
    await db.destroy();
    await root.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await root.destroy();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
