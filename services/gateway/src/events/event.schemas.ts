import { z } from 'zod';

export const publishEventBody = z.strictObject({
  event_type: z.string().regex(/^test\.[a-z0-9_.]+$/, 'only test.* events can be published over HTTP'),
  payload: z.record(z.string(), z.unknown()).default({}),
});

export const publishEventResponse = z.object({ event_id: z.uuid(), event_type: z.string() });
