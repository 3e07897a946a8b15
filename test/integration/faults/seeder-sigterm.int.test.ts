import { waitForExit } from '../../../scripts/lib/service-process';
import { eventually } from '../../support/http';
import { serviceEnv, useServices, whileAlive } from '../../support/processes';
import {
  finishWithNewSeeder,
  jobCounts,
  perfectSeeding,
  seededWorkspaces,
  seedingReport,
  workspacesWithEvents,
} from '../../support/seeding';

/**
 * SIGTERM to a seeder in the middle of 300 `workspace.created` jobs: it finishes what it holds within the
 * grace period and exits 0; a new seeder handles the rest. No job lost, none run twice to effect.
 */
const COUNT = 300;
const GRACE_MS = 10_000;
const { stack, services } = useServices();

const seederEnv = () =>
  serviceEnv({ SEEDER_CONCURRENCY: '8', SHUTDOWN_GRACE_MS: String(GRACE_MS), LOG_LEVEL: 'info' });

it('SIGTERM mid-batch: exits 0 within the grace period, and a new seeder finishes the batch, each job once', async () => {
  const batch = await workspacesWithEvents(stack, COUNT);
  const queue = stack.bus.queue('workspace');
  expect((await queue.getJobCounts('wait')).wait).toBe(COUNT);

  const first = await services.spawn('seeder', seederEnv());
  await whileAlive(
    'first seeder',
    first.child,
    eventually(async () => (await seededWorkspaces(stack.db, batch.owner.id)) >= 30, 45_000, 10),
  );
  const signalled = Date.now();
  first.child.kill('SIGTERM');
  await waitForExit(first.child, GRACE_MS + 10_000);
  const stoppedIn = Date.now() - signalled;
  expect({ code: first.child.exitCode, signal: first.child.signalCode }).toEqual({ code: 0, signal: null });
  expect(stoppedIn).toBeLessThan(GRACE_MS);
  expect(first.child.output.join('\n')).not.toContain('grace period over');

  // The jobs it held were finished, not abandoned: nothing active, every job either done or still waiting,
  // and exactly the completed jobs have their effect in the database (nothing half-done to redo).
  const afterStop = await jobCounts(queue);
  expect(afterStop.active).toBe(0);
  expect(afterStop.failed + afterStop.delayed).toBe(0);
  expect(afterStop.completed).toBeGreaterThanOrEqual(30);
  expect(afterStop.completed).toBeLessThan(COUNT);
  expect(afterStop.wait + afterStop.completed).toBe(COUNT);
  expect(await seededWorkspaces(stack.db, batch.owner.id)).toBe(afterStop.completed);

  await finishWithNewSeeder(services, seederEnv(), queue, COUNT, 45_000);

  expect(await seedingReport(stack.db, batch.owner.id, batch.eventIds)).toEqual(perfectSeeding(COUNT));
  // Each job started once and never stalled: nothing ran twice, whichever process ran it.
  const completed = await queue.getCompleted(0, -1);
  expect(completed).toHaveLength(COUNT);
  const twice = completed.filter((j) => j.attemptsStarted !== 1 || j.stalledCounter !== 0);
  expect(twice.map((j) => ({ id: j.id, started: j.attemptsStarted, stalled: j.stalledCounter }))).toEqual([]);
  expect(new Set(completed.map((j) => j.id))).toEqual(new Set(batch.eventIds));
}, 120_000);
