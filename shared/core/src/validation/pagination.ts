import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationFailedError } from '../errors/app-error';

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});

export interface Keyset {
  t: string; // ISO timestamp (millisecond columns, so it round-trips exactly)
  id: string;
}

/**
 * Opaque keyset cursors, signed so a client cannot hand-craft one. Every list query is also scoped by the
 * resolved workspace, so even a valid cursor never reaches another workspace's rows.
 */
export class CursorCodec {
  constructor(private readonly secret: string) {}

  encode(k: Keyset, scope: string): string {
    const body = Buffer.from(JSON.stringify(k)).toString('base64url');
    return `${body}.${this.sign(body, scope)}`;
  }

  decode(cursor: string | undefined, scope: string): Keyset | undefined {
    if (cursor === undefined || cursor === '') return undefined;
    const [body, sig] = cursor.split('.');
    const bad = () =>
      new ValidationFailedError('Invalid cursor', [
        { path: 'cursor', message: 'not a cursor from this list' },
      ]);
    if (!body || !sig) throw bad();
    const expected = Buffer.from(this.sign(body, scope));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
    const parsed = z
      .object({ t: z.iso.datetime({ offset: true }), id: z.uuid() })
      .safeParse(safeJson(Buffer.from(body, 'base64url').toString()));
    if (!parsed.success) throw bad();
    return parsed.data;
  }

  private sign(body: string, scope: string): string {
    return createHmac('sha256', this.secret).update(`${scope}\n${body}`).digest('base64url').slice(0, 22);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A page of a keyset-ordered query fetched with `limit + 1` rows: the extra row only says "there is more". */
export interface KeysetPage<T> {
  data: T[];
  next: Keyset | undefined;
}

export function keysetPage<R, T>(
  rows: R[],
  limit: number,
  view: (row: R) => T,
  keyOf: (row: R) => Keyset,
): KeysetPage<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { data: page.map(view), next: rows.length > limit && last ? keyOf(last) : undefined };
}

/** The response body of every list endpoint. */
export function toPage<T>(codec: CursorCodec, scope: string, page: KeysetPage<T>): Page<T> {
  return { data: page.data, next_cursor: page.next ? codec.encode(page.next, scope) : null };
}
