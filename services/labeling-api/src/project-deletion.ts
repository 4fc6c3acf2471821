import { withTransaction, type PoolClient } from '@alder/db';
import { actorOf, problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { audit } from './audit';

/**
 * The project row locked for the deletion, with what it holds. FOR UPDATE conflicts with the
 * KEY SHARE lock every insert referencing the project takes, so no item or annotation can be
 * added between these counts and the delete: the lock waits for writers already under way to
 * commit, and writers that come later wait for ours, then find the project gone.
 */
async function lockProject(client: PoolClient, projectId: string): Promise<{ name: string; items: number; annotations: number } | null> {
  const { rows } = await client.query<{ name: string; items: number; annotations: number }>(
    `SELECT p.name,
            (SELECT count(*) FROM items WHERE project_id = p.id)::int AS items,
            (SELECT count(*) FROM annotations WHERE project_id = p.id)::int AS annotations
       FROM projects p WHERE p.id = $1 FOR UPDATE OF p`,
    [projectId],
  );
  return rows[0] ?? null;
}

/**
 * One statement deletes everything: every table that references the project or its items
 * cascades (items, annotations, leases, slots, rankings and entries, models and their lineage and
 * stop-set predictions, the stop set, reviews and the queue, resolutions, memberships). The
 * append-only triggers of annotations and item_resolutions only refuse deletes at trigger depth
 * 0, so the cascade passes them; stop_set_items' item key has no action, and the project's own
 * cascade removes those rows before the check runs; a resolution's SET NULL review link finds
 * its row already gone (both go in the same cascade, the resolutions first). The audit trail has
 * no foreign key and stays.
 */
const DELETE_PROJECT_SQL = 'DELETE FROM projects WHERE id = $1';

/** Deleting a project, recorded in its audit trail (which outlives it). */
export function projectDeletionHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    deleteProject: async (request, reply) => {
      const projectId = request.params.project_id;
      const deleted = await withTransaction(pool, async (client) => {
        const project = await lockProject(client, projectId);
        if (!project) throw problems.notFound(`No project ${projectId}.`);
        // Before the rows go, in the same transaction: the trail's last word, or no deletion at all.
        await audit(client, actorOf(request), [{ projectId, kind: 'project.deleted', subject: { type: 'project', id: projectId }, after: project }]);
        await client.query(DELETE_PROJECT_SQL, [projectId]);
        return project;
      });
      request.log.info({ projectId, items: deleted.items, annotations: deleted.annotations }, 'project deleted');
      return reply.code(204).send();
    },
  };
}
