import type { RunStatus } from '../api/types';

/** A run status as a word with a colour (the word carries the meaning; the colour only helps). */
export function StatusBadge({ status }: { status: RunStatus | string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
