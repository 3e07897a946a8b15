import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookDeliveryError } from '../../services/cost-ledger/src/alert-webhook.service';
import { alertWebhook } from '../support/ledger';
import { newUser, newWorkspace } from '../support/factories';
import { openStack } from '../support/stack';

/**
 * The signed alert body goes to the configured receiver and nowhere else: a redirect is a failed delivery
 * (never followed), and in production a receiver on a loopback, link-local or private address is refused
 * before any connection is made.
 */
const stack = openStack();
const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await stack.close();
});

async function server(handler: http.RequestListener): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const s = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`, hits: () => hits };
}

async function alert() {
  const ws = await newWorkspace(stack.db, await newUser());
  const [row] = await stack
    .db('budget_alerts')
    .insert({
      workspace_id: ws.id,
      month: '2026-11-01',
      threshold_percent: 50,
      spent_usd: '6',
      budget_usd: '10',
    })
    .returning('id');
  const payload = {
    alert_id: row.id as string,
    month: '2026-11',
    threshold_percent: 50,
    spent_usd: '6',
    budget_usd: '10',
  };
  return { ws, payload };
}

const row = (id: string) => stack.db('budget_alerts').where({ id }).first();

it('does not follow a redirect: the signed body never reaches the new location', async () => {
  const elsewhere = await server((_req, res) => res.writeHead(204).end());
  const receiver = await server((_req, res) => res.writeHead(307, { location: elsewhere.url }).end());
  const { ws, payload } = await alert();
  const svc = alertWebhook(stack.db, { url: receiver.url, blockPrivateAddresses: false });
  const err = await svc.deliver(payload, ws.id).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WebhookDeliveryError);
  expect((err as Error).message).toBe('receiver answered 307 (redirects are not followed)');
  expect(receiver.hits()).toBe(1);
  expect(elsewhere.hits()).toBe(0);
  expect(await row(payload.alert_id)).toMatchObject({ delivered_at: null, delivery_attempts: 1 });
});

it('in production refuses a receiver on a private address, by literal IP or by a name that resolves to one', async () => {
  const receiver = await server((_req, res) => res.writeHead(204).end());
  const port = new URL(receiver.url).port;
  for (const url of [receiver.url, `http://localhost:${port}/hook`]) {
    const { ws, payload } = await alert();
    const svc = alertWebhook(stack.db, { url, blockPrivateAddresses: true });
    const err = await svc.deliver(payload, ws.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookDeliveryError);
    expect((err as Error).message).toMatch(
      /resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address/,
    );
    expect((await row(payload.alert_id)).last_delivery_error).toMatch(/private/);
  }
  expect(receiver.hits()).toBe(0);

  // The same receiver outside production (tests, development) is delivered to.
  const { ws, payload } = await alert();
  await alertWebhook(stack.db, { url: receiver.url, blockPrivateAddresses: false }).deliver(payload, ws.id);
  expect(receiver.hits()).toBe(1);
});
