/** Names and URLs of the per-jest-worker databases; shared by global setup and the worker env. */
export const TEST_DB_PREFIX = 'raptorflow_test';

export function adminUrl(): string {
  return process.env.RAPTORFLOW_TEST_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function databaseUrlFor(name: string, base = adminUrl()): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export function workerDatabaseName(workerId: string | number): string {
  return `${TEST_DB_PREFIX}_${workerId}`;
}
