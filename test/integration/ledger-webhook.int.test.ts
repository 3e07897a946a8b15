import { getLogger } from '@raptorflow/core/logging/logger';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import { CostLedgerService } from '../../services/cost-ledger/src/cost-ledger.service';
import {
  createCostLedgerWorker,
  createNotifyWorker,
} from '../../services/cost-ledger/src/cost-ledger.worker';
import { getSettings } from '@raptorflow/core/config/settings';
import { newUser, newWorkspace } from '../support/factories';
import { eventually } from '../support/http';
import { alertWebhook, budgetAlerts, insertCostRows } from '../support/ledger';
import { openStack } from '../support/stack';
import { workerOptions } from '../support/workers';

/**
 * Budget alert webhooks with the real workers on this file's queues and a real HTTP receiver that checks the
 * signature exactly as the README tells receivers to.
 */
const stack = openStack();
const workers: Worker[] = [];
afterAll(() => stack.close(workers));

/** The documented check: HMAC-SHA256(SECRET_KEY, `${timestamp}.${raw body}`) in hex, as `v1=<hex>`. */
function verify(secret: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const ts = String(headers['x-raptorflow-timestamp']);
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
  const given = Buffer.from(String(headers['x-raptorflow-signature']));
  return (
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    Math.abs(Date.now() / 1000 - Number(ts)) < 300
  );
}

interface Receiver {
  url: string;
  accepted: Array<{ delivery: string; body: any }>;
  attempts: number;
  close: () => Promise<void>;
}

async function receiver(behave: (attempt: number) => 'ok' | 'fail' | 'hang'): Promise<Receiver> {
  const r: Receiver = { url: '', accepted: [], attempts: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const what = behave(++r.attempts);
      if (what === 'hang') return;
      if (what === 'fail') return void res.writeHead(500).end();
      if (!verify(getSettings().secretKey, req.headers, body)) return void res.writeHead(401).end();
      const delivery = String(req.headers['x-raptorflow-delivery']);
      // A receiver dedupes by delivery id; count what it accepted.
      if (!r.accepted.some((a) => a.delivery === delivery))
        r.accepted.push({ delivery, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`;
  r.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

async function crossFifty() {
  const owner = await newUser();
  const ws = await newWorkspace(stack.db, owner);
  await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: '10' });
  const ids = await insertCostRows(stack.db, [{ workspaceId: ws.id, costUsd: '6' }]);
  return { ws, ids };
}

const ledger = new CostLedgerService({
  db: stack.db,
  alerts: budgetAlerts(stack),
  logger: getLogger(),
});

it('a receiver that fails twice then succeeds gets exactly one delivery, signed as documented', async () => {
  const rx = await receiver((n) => (n <= 2 ? 'fail' : 'ok'));
  try {
    workers.push(
      createNotifyWorker(alertWebhook(stack.db, { url: rx.url }), workerOptions(stack, 'costLedger')),
    );
    const { ws, ids } = await crossFifty();
    await ledger.fold(ids[0]!);
    await eventually(async () => rx.accepted.length === 1, 15_000);
    expect(rx.attempts).toBe(3);
    expect(rx.accepted[0]!.body).toMatchObject({
      type: 'budget.alert',
      workspace_id: ws.id,
      threshold_percent: 50,
      spent_usd: '6',
      budget_usd: '10',
    });
    // The receiver answers before the worker records the delivery: wait for the row, not the request.
    const alert = await eventually(async () => {
      const row = await stack.db('budget_alerts').where({ workspace_id: ws.id }).first();
      return row?.delivered_at ? row : undefined;
    }, 15_000);
    expect(alert).toMatchObject({ delivery_attempts: 3, last_delivery_error: null });
    expect(alert.delivered_at).toBeInstanceOf(Date);
    // Its job is finished for good (completed: no attempt can follow), and the receiver saw three.
    const event = await stack
      .db('event_outbox')
      .where({ workspace_id: ws.id, event_type: 'budget.alert.fired' })
      .first<{ id: string }>('id');
    await eventually(async () => (await stack.bus.queue('notify').getJobState(event.id)) === 'completed');
    expect(rx.attempts).toBe(3);
  } finally {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await rx.close();
  }
}, 30_000);

it('a dead receiver never slows folding', async () => {
  const rx = await receiver(() => 'hang');
  try {
    workers.push(
      createNotifyWorker(
        alertWebhook(stack.db, { url: rx.url, timeoutMs: 20_000 }),
        workerOptions(stack, 'costLedger', { concurrency: 1 }),
      ),
      createCostLedgerWorker(ledger, workerOptions(stack, 'costLedger', { concurrency: 4 })),
    );
    const owner = await newUser();
    const ws = await newWorkspace(stack.db, owner);
    await stack.db('workspace_budgets').insert({ workspace_id: ws.id, monthly_budget_usd: '1' });
    const ids = await insertCostRows(
      stack.db,
      Array.from({ length: 300 }, () => ({ workspaceId: ws.id, costUsd: '0.01' })),
    );
    for (let i = 0; i < ids.length; i += 100)
      await Promise.all(
        ids
          .slice(i, i + 100)
          .map((id) =>
            stack.bus.publish(
              'cost.recorded',
              { cost_log_id: id, model: 'gemini-3.8-flash', cost_usd: '0.01' },
              { workspaceId: ws.id },
            ),
          ),
      );
    await eventually(
      async () =>
        Number((await stack.db('cost_rollup_folds').where({ workspace_id: ws.id }).count('* as n'))[0]!.n) ===
        300,
      20_000,
    );
    // All 300 folded, and the three alerts fired on the way, while the first delivery still hangs.
    expect(
      (await stack.db('budget_alerts').where({ workspace_id: ws.id })).map((a) => a.threshold_percent).sort(),
    ).toEqual([100, 50, 80]);
    expect(rx.attempts).toBe(1);
    expect(
      await stack.db('budget_alerts').where({ workspace_id: ws.id }).whereNotNull('delivered_at'),
    ).toHaveLength(0);
  } finally {
    await rx.close();
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
  }
}, 60_000);
