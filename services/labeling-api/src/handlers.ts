import type { HandlerDeps, HandlerMap } from '@alder/http';
import { apiKeyHandlers } from './api-keys.routes';
import { modelHandlers } from './models.routes';
import { progressHandlers } from './progress.routes';
import { projectHandlers } from './projects.routes';
import { answerContractViolations } from './stored-contracts';
import { taskHandlers } from './tasks.routes';

/** The labeling API's operations, keyed by operationId, for `buildHttpApp`. */
export function createLabelingHandlers(deps: HandlerDeps): HandlerMap {
  return answerContractViolations({
    ...projectHandlers(deps),
    ...taskHandlers(deps),
    ...progressHandlers(deps),
    ...modelHandlers(deps),
    ...apiKeyHandlers(deps),
  });
}
