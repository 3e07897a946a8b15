/** Date inputs give `YYYY-MM-DD`; the API's filters take instants, in UTC like the cost ledger's days. */
export function dayStart(day: string): string {
  return `${day}T00:00:00.000Z`;
}

/** The instant the day after `day` starts: `to` filters are exclusive, so the whole of `day` is included. */
export function dayEndExclusive(day: string): string {
  const d = new Date(`${day}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function currentMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/** `2026-11` → the first and last day of that month, as `YYYY-MM-DD`. */
export function monthDays(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0));
  return { from: `${month}-01`, to: isoDay(last) };
}

/** Every day from `from` to `to` inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const d = new Date(`${from}T00:00:00.000Z`);
  const end = new Date(`${to}T00:00:00.000Z`);
  while (d <= end && out.length < 400) {
    out.push(isoDay(d));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}
