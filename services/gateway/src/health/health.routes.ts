import { Router } from 'express';
import type { Request, Response } from 'express';
import { httpStatusFor } from '@raptorflow/core/health/health.service';
import type { HealthService } from '@raptorflow/core/health/health.service';

export function healthRouter(health: HealthService): Router {
  const router = Router();
  const full = async (_req: Request, res: Response) => {
    const report = await health.check();
    res.status(httpStatusFor(report)).json(report);
  };
  router.get('/health', full);
  router.get('/health/ready', full);
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}
