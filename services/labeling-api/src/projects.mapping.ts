import type { Schemas } from '@alder/api-types';
import type { ProjectRow } from './projects.repository';

export function toProject(row: ProjectRow): Schemas['Project'] {
  return {
    ...row,
    // Written only through this API, whose spec allows only a Strategy.
    strategy: row.strategy as Schemas['Strategy'],
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
