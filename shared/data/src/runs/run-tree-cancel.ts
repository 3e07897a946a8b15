import type { Knex } from 'knex';
import type { AgentRunTreeRepository } from '../repositories/agent-run-tree.repository';
import type { RunEventLog } from './run-events';

/**
 * A cancel of a parent reaches its open children, in the caller's transaction: children no runner holds
 * (queued, or paused at an approval) end `cancelled` here; running ones get `cancel_requested_at`, which their
 * runner reads at its next lease renewal (or at once, when the caller also sends the Redis nudge). Returns the
 * running ones: the parent waits for them to end before it ends itself, so its cost includes theirs.
 * The gateway's cancel and the runner's both use this, so the two paths cannot disagree.
 */
export async function cancelOpenChildren(
  trx: Knex.Transaction,
  parentId: string,
  deps: { tree: AgentRunTreeRepository; events: RunEventLog; requestCancel: (id: string) => Promise<void> },
): Promise<string[]> {
  const running: string[] = [];
  for (const child of await deps.tree.lockOpenChildren(trx, parentId)) {
    if (child.status === 'running') {
      await deps.requestCancel(child.id);
      running.push(child.id);
      continue;
    }
    await deps.tree.cancelUnheld(trx, child.id, {
      code: 'cancelled',
      message: 'Cancelled with its parent run',
    });
    await deps.events.append(child, 'status', { status: 'cancelled' }, trx);
    await deps.events.append(
      { id: parentId, workspace_id: child.workspace_id },
      'child.finished',
      { stage: child.stage, child_run_id: child.id, agent: child.agent_key, status: 'cancelled' },
      trx,
    );
  }
  return running;
}
