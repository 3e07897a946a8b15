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
 * A seeder process killed with SIGKILL in the middle of 500 `workspace.created` jobs, then restarted: the jobs
 * it held come back as stalled jobs and run again, and every workspace still ends with exactly seven Lords.
 *
 * A killed worker's jobs stay "active" until their lock expires (lockDuration) and a stalled check (every
 * stalledInterval) has seen them twice. WORKER_LOCK_DURATION_MS / WORKER_STALLED_INTERVAL_MS bring both down to
 * 5 s (recovery ~10 s after the restart); with BullMQ's defaults of 30 s it takes up to ~60 s more.
 */
const COUNT = 500;
const { stack, services } = useServices();

const seederEnv = () =>
  serviceEnv({
    SEEDER_CONCURRENCY: '8',
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '5000',
  });

it('SIGKILL mid-batch, then a new seeder: every workspace has exactly seven Lords, every event audited once', async () => {
  const batch = await workspacesWithEvents(stack, COUNT);
  const queue = stack.bus.queue('workspace');
  expect(await jobCounts(queue)).toEqual({ wait: COUNT, active: 0, delayed: 0, completed: 0, failed: 0 });

  const first = await services.spawn('seeder', seederEnv());
  await whileAlive(
    'first seeder',
    first.child,
    eventually(async () => (await seededWorkspaces(stack.db, batch.owner.id)) >= 40, 45_000, 10),
  );
  first.child.kill('SIGKILL');
  await waitForExit(first.child, 5_000);
  expect(first.child.signalCode).toBe('SIGKILL');

  // Killed mid-batch: some workspaces seeded, not all, and jobs left "active" by a process that is gone.
  const seededAtKill = await seededWorkspaces(stack.db, batch.owner.id);
  const atKill = await jobCounts(queue);
  expect(seededAtKill).toBeGreaterThanOrEqual(40);
  expect(seededAtKill).toBeLessThan(COUNT);
  expect(atKill.active).toBeGreaterThan(0);
  expect(atKill.wait + atKill.active + atKill.completed).toBe(COUNT);

  await finishWithNewSeeder(services, seederEnv(), queue, COUNT, 100_000);

  // Exactly seven Lords per workspace (count = distinct (workspace_id, key) = 3500) and one
  // `workspace.seeded` row per event, whose agents_created add up to the rows that exist.
  expect(await seedingReport(stack.db, batch.owner.id, batch.eventIds)).toEqual(perfectSeeding(COUNT));
  expect(await jobCounts(queue)).toEqual({ wait: 0, active: 0, delayed: 0, completed: COUNT, failed: 0 });
  // The orphaned jobs really went through the stalled path (re-run by the second process).
  const completed = await queue.getCompleted(0, -1);
  expect(completed).toHaveLength(COUNT);
  const rerun = completed.filter((j) => j.stalledCounter > 0);
  expect(rerun.length).toBeGreaterThan(0);
  expect(rerun.length).toBeLessThanOrEqual(atKill.active);
}, 150_000);
