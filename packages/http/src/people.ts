import type { Pool } from '@alder/db';
import { createApiKey } from './api-keys.repository';
import { upsertMember } from './members.repository';
import type { InstanceRole, ProjectRole } from './spec';
import { insertUser } from './users.repository';

/** A user with one API key, through the owning modules (tests and benchmarks). */
export async function createUserWithKey(pool: Pool, input: { name: string; role?: InstanceRole; email?: string }): Promise<{ userId: string; key: string; keyId: string }> {
  const user = await insertUser(pool, input);
  const created = await createApiKey(pool, { name: `${input.name} key`, userId: user.id });
  return { userId: user.id, key: created.key, keyId: created.id };
}

/** A new user with a key, made a member of the project with the role (tests and benchmarks). */
export async function createMember(pool: Pool, projectId: string, role: ProjectRole, name: string = `${role} ${Math.random().toString(36).slice(2, 8)}`): Promise<{ userId: string; key: string; keyId: string }> {
  const user = await createUserWithKey(pool, { name });
  await upsertMember(pool, projectId, user.userId, role);
  return user;
}
