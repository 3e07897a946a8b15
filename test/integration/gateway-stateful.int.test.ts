import fc from 'fast-check';
import { parseSettings } from '@raptorflow/core/config/settings';
import { startGateway } from '../support/gateway';
import { COMMANDS, executed, freshWorld } from '../support/fuzz-model';
import { openStack } from '../support/stack';

/**
 * Model-based: 40 sequences of up to 15 commands per seed (create a workspace, rename it, add, change and remove members,
 * set the budget and guardrails, remember, edit and forget memory items, read everything back, list one's
 * workspaces) by four users against the real gateway over the test's PostgreSQL and Redis, each answer
 * checked against test/support/fuzz-model.ts: 403 for a role that may not, 404 after a delete, 409 for the
 * last owner and for a second membership, and the names, roles, members, budgets, rules and items read back.
 * Each sequence starts from four new users, so sequences do not see each other. Runs a fixed seed (the same
 * sequences every run) and a random one, both printed; FUZZ_SEED replays the random one.
 */
const stack = openStack();
let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  const settings = parseSettings({
    ...process.env,
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '1000000',
  });
  ({ url, close } = await startGateway(stack, settings));
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

const FIXED_SEED = 20_261_127;
const RANDOM_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1_000_000));

describe.each([
  ['fixed', FIXED_SEED],
  ['random', RANDOM_SEED],
])('workspace life cycles against a model (%s seed)', (_kind, seed) => {
  it(`seed ${seed}: every answer matches the model`, async () => {
    console.log(`stateful fuzz seed ${seed} (FUZZ_SEED=${seed} replays the random run)`);
    let sequences = 0;
    let commands = 0;
    const ran = executed.commands;
    await fc.assert(
      fc.asyncProperty(fc.commands(COMMANDS, { maxCommands: 15, size: 'max' }), async (cmds) => {
        sequences++;
        commands += [...cmds].length;
        await fc.asyncModelRun(() => freshWorld(url), cmds);
      }),
      { numRuns: 40, seed },
    );
    const run = executed.commands - ran;
    console.log(`stateful fuzz seed ${seed}: ${sequences} sequences, ${commands} commands, ${run} run`);
    expect(sequences).toBeGreaterThanOrEqual(40);
    expect(run).toBeGreaterThanOrEqual(200);
  }, 60_000);
});
