import { withTransaction } from '@alder/db';
import { actorOf, anotherAdminCanSignIn, findUser, insertUser, isEmailTaken, listUsers, problems, updateUser, type HandlerDeps, type HandlerMap } from '@alder/http';
import { toUser } from './users.mapping';
import { audit, changedFields, instanceEvent } from './audit';

const emailTaken = () => problems.conflict('email-taken', 'Another user has this email.');

/** Users: identities that keys belong to and memberships name. Admins manage them. */
export function userHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    createUser: async (request, reply) => {
      try {
        const user = await withTransaction(pool, async (client) => {
          const created = await insertUser(client, request.body);
          await audit(client, actorOf(request), [instanceEvent({ kind: 'user.created', subject: { type: 'user', id: created.id }, after: toUser(created) })]);
          return created;
        });
        request.log.info({ userId: user.id, role: user.role, by: actorOf(request).userId }, 'user created');
        reply.code(201);
        return toUser(user);
      } catch (error) {
        if (isEmailTaken(error)) throw emailTaken();
        throw error;
      }
    },

    listUsers: async (request) => {
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const { rows, total } = await listUsers(pool, limit, offset);
      return { data: rows.map(toUser), total, limit, offset };
    },

    getUser: async (request) => {
      const actor = actorOf(request);
      const userId = request.params.user_id;
      // A member sees themselves only; anyone else answers as missing.
      const user = actor.role === 'admin' || actor.userId === userId ? await findUser(pool, userId) : null;
      if (!user) throw problems.notFound(`No user ${userId}.`);
      return toUser(user);
    },

    updateUser: async (request) => {
      const userId = request.params.user_id;
      const changes = request.body;
      try {
        return await withTransaction(pool, async (client) => {
          const current = await findUser(client, userId, true);
          if (!current) throw problems.notFound(`No user ${userId}.`);
          const losesAdmin = current.role === 'admin' && current.active && (changes.role === 'member' || changes.active === false);
          if (losesAdmin && !(await anotherAdminCanSignIn(client, userId))) {
            throw problems.conflict('last-admin', 'This change would leave no active admin with a usable key; make another admin first.');
          }
          const updated = await updateUser(client, userId, changes);
          const diff = changedFields(toUser(current), toUser(updated), ['name', 'email', 'role', 'active']);
          if (diff) await audit(client, actorOf(request), [instanceEvent({ kind: 'user.updated', subject: { type: 'user', id: userId }, ...diff })]);
          return toUser(updated);
        });
      } catch (error) {
        if (isEmailTaken(error)) throw emailTaken();
        throw error;
      }
    },
  };
}
