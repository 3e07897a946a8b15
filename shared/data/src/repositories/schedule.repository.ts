import type { Knex } from 'knex';
import type { KeysetPosition } from './keyset';
import { orderByKeyset } from './keyset';
import type { ScheduleRow, ScheduleTickRow } from './schedule.rows';

type Queryable = Knex | Knex.Transaction;

/** What a create writes; the rest has defaults. */
export type NewSchedule = Pick<
  ScheduleRow,
  'workspace_id' | 'agent_key' | 'input' | 'model' | 'cron' | 'timezone' | 'paused' | 'created_by'
> &
  Pick<ScheduleRow, 'next_run_at'>;

export type SchedulePatch = Partial<
  Pick<ScheduleRow, 'input' | 'model' | 'cron' | 'timezone' | 'paused' | 'next_run_at'>
>;

const json = (patch: SchedulePatch) =>
  patch.input === undefined ? patch : { ...patch, input: JSON.stringify(patch.input) };

/**
 * All SQL of `schedules` and `schedule_ticks`: the API's reads and writes (always inside one workspace) and
 * the tick's claim. A tick is claimed by inserting its (schedule, time) row: the primary key lets exactly
 * one transaction through, however many runners hold the same tick job.
 */
export class ScheduleRepository {
  constructor(private readonly db: Knex) {}

  async insert(trx: Knex.Transaction, s: NewSchedule): Promise<ScheduleRow> {
    const [row] = await trx('schedules')
      .insert({ ...s, input: JSON.stringify(s.input) })
      .returning<ScheduleRow[]>('*');
    return row!;
  }

  async list(
    workspaceId: string,
    f: { after?: KeysetPosition; take: number; agent?: string },
  ): Promise<ScheduleRow[]> {
    const query = this.db('schedules').where({ workspace_id: workspaceId }).select<ScheduleRow[]>('*');
    if (f.agent) query.andWhere('agent_key', f.agent);
    orderByKeyset(query, 'desc', f.after);
    return query.limit(f.take);
  }

  async find(workspaceId: string, id: string, db: Queryable = this.db): Promise<ScheduleRow | undefined> {
    return db('schedules').where({ id, workspace_id: workspaceId }).first<ScheduleRow | undefined>();
  }

  /** Locks the workspace's schedule for a change (undefined: not in this workspace). */
  async lock(trx: Knex.Transaction, workspaceId: string, id: string): Promise<ScheduleRow | undefined> {
    return trx('schedules')
      .where({ id, workspace_id: workspaceId })
      .forUpdate()
      .first<ScheduleRow | undefined>();
  }

  async update(trx: Knex.Transaction, id: string, patch: SchedulePatch): Promise<ScheduleRow> {
    const [row] = await trx('schedules')
      .where({ id })
      .update({ ...json(patch), updated_at: trx.fn.now() })
      .returning<ScheduleRow[]>('*');
    return row!;
  }

  async delete(trx: Knex.Transaction, id: string): Promise<void> {
    await trx('schedules').where({ id }).delete();
  }

  async findById(id: string): Promise<ScheduleRow | undefined> {
    return this.db('schedules').where({ id }).first<ScheduleRow | undefined>();
  }

  /** A tick's view of its schedule, by id alone (the tick job carries no workspace it could be trusted with). */
  async lockForTick(trx: Knex.Transaction, id: string): Promise<ScheduleRow | undefined> {
    return trx('schedules').where({ id }).forNoKeyUpdate().first<ScheduleRow | undefined>();
  }

  /**
   * Claims the tick: true for the one transaction that inserted it, false when it was already fired (another
   * replica, or an earlier attempt of the same job). A concurrent claimer waits on the key until the first
   * commits or rolls back, so a claim that is rolled back leaves the tick to the next attempt.
   */
  async claimTick(
    trx: Knex.Transaction,
    t: Pick<ScheduleTickRow, 'schedule_id' | 'scheduled_for' | 'workspace_id' | 'outcome' | 'reason'>,
  ): Promise<boolean> {
    const rows = await trx('schedule_ticks')
      .insert(t)
      .onConflict(['schedule_id', 'scheduled_for'])
      .ignore()
      .returning<Array<{ schedule_id: string }>>('schedule_id');
    return rows.length === 1;
  }

  async setTickRun(trx: Knex.Transaction, scheduleId: string, at: Date, runId: string): Promise<void> {
    await trx('schedule_ticks')
      .where({ schedule_id: scheduleId, scheduled_for: at })
      .update({ agent_run_id: runId });
  }

  /** After a tick: its time when it created a run (`fired`), and the next tick either way. */
  async markTick(
    trx: Knex.Transaction,
    id: string,
    t: { at: Date; fired: boolean; next: Date | null },
  ): Promise<void> {
    await trx('schedules')
      .where({ id })
      .update({
        next_run_at: t.next,
        ...(t.fired ? { last_fired_at: trx.raw('GREATEST(last_fired_at, ?::timestamptz)', [t.at]) } : {}),
      });
  }

  async ticks(scheduleId: string, limit = 100): Promise<ScheduleTickRow[]> {
    return this.db('schedule_ticks')
      .where({ schedule_id: scheduleId })
      .orderBy('scheduled_for', 'desc')
      .limit(limit)
      .select<ScheduleTickRow[]>('*');
  }

  /** Every schedule that should have a job scheduler (start-up reconciliation after a Redis loss). */
  async active(after: string | null, take: number): Promise<ScheduleRow[]> {
    const q = this.db('schedules')
      .where({ paused: false })
      .orderBy('id')
      .limit(take)
      .select<ScheduleRow[]>('*');
    if (after) q.andWhere('id', '>', after);
    return q;
  }
}
