import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { findModel, listModels, type ModelRow } from './models.repository';
import { iso, toMetrics, toModelStopping } from './serialize';

function toModel(row: ModelRow): Schemas['ModelVersion'] {
  return {
    version: row.version,
    status: row.status,
    is_current: row.is_current,
    labels: row.labels,
    backend: row.backend,
    train_count: row.train_count,
    test_count: row.test_count,
    metrics: toMetrics(row.metrics),
    stopping: toModelStopping(row.stopping),
    train_ms: row.train_ms,
    error: row.error,
    created_at: row.started_at.toISOString(),
    finished_at: iso(row.finished_at),
  };
}

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
