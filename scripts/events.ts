// npm run events -- failed [--limit N] [--queue <name>] [--json]  — dead letters, newest first
// npm run events -- replay <event_id>                              — run a dead letter again, fresh attempts
// Uses DATABASE_URL, REDIS_URL and QUEUE_PREFIX like the services (`npm start` prints what it runs on).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { withCliStack } from './lib/cli-stack';
import { QUEUE_NAMES } from '@raptorflow/events/bus/event-catalog';
import { isAppError } from '@raptorflow/core/errors/app-error';
import { FailedEventsService } from '@raptorflow/events/bus/failed-events.service';
import type { FailedEvent } from '@raptorflow/events/bus/failed-events.service';
import type { QueueName } from '@raptorflow/events/bus/event-catalog';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';

const USAGE = `usage:
  npm run events -- failed [--limit N] [--queue ${QUEUE_NAMES.join('|')}] [--json]
  npm run events -- replay <event_id>`;

function table(rows: FailedEvent[]): string {
  const cols = ['failed_at', 'event_id', 'queue', 'event_type', 'attempts_made', 'failed_reason'] as const;
  const cells = rows.map((r) =>
    cols.map((c) => {
      const v = String(r[c] ?? '-').replace(/\s+/g, ' ');
      // A long stack-ish reason would wrap every line of the table; the JSON output has it whole.
      return c === 'failed_reason' && v.length > 80 ? `${v.slice(0, 77)}...` : v;
    }),
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      limit: { type: 'string' },
      queue: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  return withCliStack('events', async ({ db, bus }) => {
    const service = new FailedEventsService({ bus, db, audit: new AuditLogService({ db }) });
    if (command === 'failed') {
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer');
      const queue = values.queue;
      if (queue !== undefined && !(QUEUE_NAMES as readonly string[]).includes(queue))
        throw new Error(`--queue must be one of ${QUEUE_NAMES.join(', ')}`);
      const rows = await service.listFailed({ limit, ...(queue ? { queue: queue as QueueName } : {}) });
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(rows.length ? `${table(rows)}\n` : 'no failed events\n');
      return 0;
    }
    if (command === 'replay') {
      const [eventId] = rest;
      if (!eventId || rest.length > 1) throw new Error(USAGE);
      // The audit row names who replayed it: the operator's login on this machine.
      const result = await service.replay(eventId, {
        actor: { type: 'system', id: `cli:${os.userInfo().username}` },
      });
      process.stdout.write(
        `replayed ${result.event_id} from the ${result.replayed_from.replace('_', ' ')}\n`,
      );
      return 0;
    }
    throw new Error(`unknown command "${command}"\n${USAGE}`);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // AppErrors carry their code (not_found, conflict, ...) so scripts can tell the cases apart.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${isAppError(err) ? `${err.code}: ` : ''}${msg}\n`);
    process.exit(isAppError(err) && err.code === 'not_found' ? 3 : 1);
  },
);
