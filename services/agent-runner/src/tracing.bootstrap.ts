import { startServiceTracing } from '@raptorflow/core/telemetry/tracing';

// Imported first by main.ts: the instrumentations patch express, pg and ioredis only if they load after this.
export const tracing = startServiceTracing('agent-runner');
