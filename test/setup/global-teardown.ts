export default async function globalTeardown(): Promise<void> {
  // Databases are kept for post-mortem inspection and dropped at the next run's global setup.
}
