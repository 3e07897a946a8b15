import { randomBytes } from 'node:crypto';
import { databaseUrlFor, workerDatabaseName } from './test-databases';

// Runs before each test file, before any module reads settings: point it at this worker's database and a
// BullMQ prefix of its own (a Redis Cluster hash tag, like production's `{raptorflow}`).
const worker = process.env.JEST_WORKER_ID ?? '1';
process.env.ENVIRONMENT = 'test';
process.env.DATABASE_URL = databaseUrlFor(workerDatabaseName(worker));
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `{rftest-${worker}-${randomBytes(4).toString('hex')}}`;
process.env.MIGRATE_ON_START = 'false';
process.env.LOG_LEVEL ??= 'silent';
