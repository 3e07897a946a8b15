import type { LlmSettings } from '@raptorflow/core/config/llm-settings';
import { getModelCatalog } from './model-catalog.builder';
import { ModelRouter, warnAboutRetirements } from './model-router';

/**
 * The router a service builds at start-up: the process's catalog (pinned package + MODEL_CATALOG_FILE), every
 * chained model checked (a problem stops start-up, all listed), retirements within 30 days logged once.
 */
export function startupModelRouter(
  settings: LlmSettings,
  logger: { warn(obj: object, msg: string): void },
): ModelRouter {
  const router = new ModelRouter({ settings, catalog: getModelCatalog(settings.catalogFile) });
  warnAboutRetirements(router, logger);
  return router;
}
