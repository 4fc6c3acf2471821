import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { findModel, listModels } from './models.repository';
import { toModel } from './models.mapping';

/** Model versions and their metrics. */
export function modelHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    listModels: async (request) => {
      const limit = request.query.limit ?? 100;
      const offset = request.query.offset ?? 0;
      const page = await listModels(pool, request.params.project_id, limit, offset);
      if (!page) throw problems.notFound(`No project ${request.params.project_id}.`);
      return { data: page.rows.map(toModel), total: page.total, limit, offset };
    },

    getModel: async (request) => {
      const { project_id: projectId, version } = request.params;
      const model = await findModel(pool, projectId, version);
      if (!model) throw problems.notFound(`Project ${projectId} has no model version ${version}.`);
      return toModel(model);
    },
  };
}
