import { waitForExit } from '../../../scripts/lib/service-process';
import { serviceEnv, useServices } from '../../support/processes';
import { lordsWorkspace, runsClient } from '../../support/agent-runs';
import { openSse } from '../../support/sse';

/**
 * A gateway told to stop ends its open run event streams at once (their clients reconnect elsewhere with
 * Last-Event-ID) instead of being held open by them until the grace period runs out.
 */
const { stack, services } = useServices();

it('SIGTERM ends open SSE streams and the gateway exits well before the grace period', async () => {
  const gateway = await services.start('gateway', serviceEnv({ SHUTDOWN_GRACE_MS: '60000' }));
  const { owner, ws } = await lordsWorkspace(stack.db);
  // No runner: the run stays queued and its stream stays open.
  const id = await runsClient(gateway.url, owner, ws).create({ agent: 'seer', input: { topic: 'x' } });
  const stream = await openSse(`${gateway.url}/v1/agent-runs/${id}/events`, {
    token: owner.token,
    headers: { 'x-workspace-id': ws.id },
  });
  await stream.waitForEvents(1, 5_000);
  expect(stream.events[0]!.data.status).toBe('queued');
  gateway.child.kill('SIGTERM');
  await stream.ended(10_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${gateway.child.output.slice(-20).join('\n')}`);
  });
  await waitForExit(gateway.child, 10_000);
  expect(gateway.child.exitCode).toBe(0);
}, 40_000);
