import { withTransaction } from '@alder/db';
import { actorOf, findUser, listMembers, problems, removeMember, upsertMember, type HandlerDeps, type HandlerMap } from '@alder/http';
import { audit } from './audit';
import { endLeasesOf } from './tasks.repository';
import { toMember } from './users.mapping';

/** Project membership: who may do what in a project. Managers (and admins) change it. */
export function memberHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    listMembers: async (request) => ({ data: (await listMembers(pool, request.params.project_id)).map(toMember) }),

    putMember: async (request) => {
      const { project_id: projectId, user_id: userId } = request.params;
      return withTransaction(pool, async (client) => {
        const user = await findUser(client, userId);
        if (!user || !user.active) throw problems.notFound(`No active user ${userId}.`);
        const { before, member } = await upsertMember(client, projectId, userId, request.body.role);
        if (before !== member.role) {
          await audit(client, actorOf(request), [
            {
              projectId,
              kind: before === null ? 'member.added' : 'member.changed',
              subject: { type: 'member', id: userId },
              before: before === null ? null : { role: before },
              after: { role: member.role },
            },
          ]);
        }
        return toMember(member);
      });
    },

    deleteMember: async (request, reply) => {
      const { project_id: projectId, user_id: userId } = request.params;
      await withTransaction(pool, async (client) => {
        const removed = await removeMember(client, projectId, userId);
        // Their items go back to the pool for others at once, not when the leases run out.
        if (removed) {
          const ended = await endLeasesOf(client, projectId, userId);
          await audit(client, actorOf(request), [
            { projectId, kind: 'member.removed', subject: { type: 'member', id: userId }, before: { role: removed }, after: { leases_ended: ended.map((l) => l.lease_id) } },
            ...ended.map((l) => ({
              projectId,
              kind: 'lease.expired',
              subject: { type: 'lease', id: l.lease_id },
              item: { id: l.item_id, externalId: l.external_id },
              after: { reason: 'member-removed' },
            })),
          ]);
          request.log.info({ projectId, userId, leasesEnded: ended.length }, 'member removed');
        }
      });
      return reply.code(204).send();
    },
  };
}
