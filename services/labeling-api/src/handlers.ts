import type { HandlerDeps, HandlerMap } from '@alder/http';
import { apiKeyHandlers } from './api-keys.routes';
import { modelHandlers } from './models.routes';
import { progressHandlers } from './progress.routes';
import { projectHandlers } from './projects.routes';
import { answerContractViolations } from './stored-contracts';
import { taskHandlers } from './tasks.routes';
import { memberHandlers } from './members.routes';
import { userHandlers } from './users.routes';
import { auditHandlers } from './audit.routes';
import { agreementHandlers } from './agreement.routes';
import { exportHandlers } from './export.routes';
import { reviewHandlers } from './reviews.routes';
import { projectDeletionHandlers } from './project-deletion';

/** The labeling API's operations, keyed by operationId, for `buildHttpApp`. */
export function createLabelingHandlers(deps: HandlerDeps): HandlerMap {
  return answerContractViolations({
    ...projectHandlers(deps),
    ...taskHandlers(deps),
    ...progressHandlers(deps),
    ...modelHandlers(deps),
    ...apiKeyHandlers(deps),
    ...userHandlers(deps),
    ...memberHandlers(deps),
    ...auditHandlers(deps),
    ...reviewHandlers(deps),
    ...agreementHandlers(deps),
    ...exportHandlers(deps),
    ...projectDeletionHandlers(deps),
  });
}
