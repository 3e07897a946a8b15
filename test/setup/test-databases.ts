/** Names and URLs of the per-jest-worker databases; shared by global setup, teardown and the worker env. */
export const TEST_DB_PREFIX = 'raptorflow_test';

export function adminUrl(): string {
  return (
    process.env.RAPTORFLOW_TEST_ADMIN_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

export function databaseUrlFor(name: string, base = adminUrl()): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The run id keeps two test runs on one server (two terminals, a helper, CI) out of each other's way. */
export function runId(): string {
  const id = process.env.RAPTORFLOW_TEST_RUN;
  if (!id)
    throw new Error('RAPTORFLOW_TEST_RUN is not set: run the tests through jest (global setup sets it)');
  return id;
}

export function workerDatabaseName(workerId: string | number): string {
  return `${TEST_DB_PREFIX}_${runId()}_${workerId}`;
}

export function templateDatabaseName(): string {
  return `${TEST_DB_PREFIX}_${runId()}_template`;
}
