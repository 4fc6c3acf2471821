import { readdir, readFile } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { migrate, migrationsDir, withTransaction, type Pool } from '../src/index';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('migrations', () => {
  it('are already applied to a test database and re-running them is a no-op', async () => {
    expect(await migrate(db.pool)).toEqual([]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('keeps annotations append-only', async () => {
    const project = await db.pool.query(`INSERT INTO projects (name, labels) VALUES ('p', '{a,b}') RETURNING id`);
    const projectId = project.rows[0].id;
    const item = await db.pool.query(
      `INSERT INTO items (project_id, external_id, text, split, content_hash) VALUES ($1, 'x', 't', 'pool', '\\x00') RETURNING id`,
      [projectId],
    );
    await db.pool.query(
      `INSERT INTO annotations (project_id, item_id, label, annotator, source) VALUES ($1, $2, 'a', 'ann', 'annotator')`,
      [projectId, item.rows[0].id],
    );
    await expect(db.pool.query(`UPDATE annotations SET label = 'b'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM annotations`)).rejects.toThrow(/append-only/);
    // Deleting the project cascades through the annotations on purpose.
    await db.pool.query('DELETE FROM projects WHERE id = $1', [projectId]);
  });
});

describe("an item's project (checked per statement since 0019)", () => {
  const insertItem = (pool: Pick<Pool, "query">, projectId: string, externalId: string) =>
    pool.query(`INSERT INTO items (project_id, external_id, text, split, content_hash) VALUES ($1, $2, 't', 'pool', '\\x00') RETURNING id`, [projectId, externalId]);

  it('must exist: a missing project is a foreign key violation, for one row or many', async () => {
    const missing = '00000000-0000-0000-0000-00000000dead';
    await expect(insertItem(db.pool, missing, 'x')).rejects.toMatchObject({ code: '23503' });
    const project = (await db.pool.query(`INSERT INTO projects (name, labels) VALUES ('fk', '{a,b}') RETURNING id`)).rows[0].id;
    await expect(
      db.pool.query(`INSERT INTO items (project_id, external_id, text, split, content_hash) SELECT p, 'm' || p, 't', 'pool', '\\x00' FROM unnest($1::uuid[]) p`, [[project, missing]]),
    ).rejects.toMatchObject({ code: '23503' });
    expect((await db.pool.query('SELECT 1 FROM items WHERE project_id = $1', [project])).rowCount).toBe(0);
  });

  it('never changes, and deleting the project deletes its items', async () => {
    const [p1, p2] = (await db.pool.query<{ id: string }>(`INSERT INTO projects (name, labels) VALUES ('a', '{a,b}'), ('b', '{a,b}') RETURNING id`)).rows.map((r) => r.id);
    const item = (await insertItem(db.pool, p1!, 'moving')).rows[0].id;
    await expect(db.pool.query('UPDATE items SET project_id = $2 WHERE id = $1', [item, p2])).rejects.toThrow(/never changes/);
    await db.pool.query(`UPDATE items SET text = 'still here' WHERE id = $1`, [item]);
    await db.pool.query('DELETE FROM projects WHERE id = $1', [p1]);
    expect((await db.pool.query('SELECT 1 FROM items WHERE id = $1', [item])).rowCount).toBe(0);
  });

  it('can not be deleted under a writer: the delete waits for the insert to commit, then takes its items too', async () => {
    const project = (await db.pool.query(`INSERT INTO projects (name, labels) VALUES ('busy', '{a,b}') RETURNING id`)).rows[0].id;
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await insertItem(writer, project, 'in flight');
      const deletion = db.pool.query('DELETE FROM projects WHERE id = $1', [project]);
      // The deletion is waiting on the writer's lock on the project row.
      const waiting = `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM projects%'`;
      while (!(await db.pool.query(waiting)).rowCount) await new Promise((r) => setTimeout(r, 20));
      await writer.query('COMMIT');
      await deletion;
    } finally {
      writer.release();
    }
    expect((await db.pool.query('SELECT 1 FROM items WHERE project_id = $1', [project])).rowCount).toBe(0);
  });
});

/** Applies the migrations up to and including `last`, as migrate() would have at that version. */
async function migrateUpTo(pool: Pool, last: string): Promise<string[]> {
  const files = (await readdir(migrationsDir)).filter((name) => /^\d{4}_.+\.sql$/.test(name)).sort();
  await pool.query('CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const name of files.filter((f) => f.slice(0, 4) <= last)) {
    await withTransaction(pool, async (client) => {
      await client.query(await readFile(migrationsDir + name, 'utf8'));
      await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
    });
  }
  return files.filter((f) => f.slice(0, 4) > last);
}

describe('0009 and 0010 on a database from before users and slots', () => {
  it('makes each API key a user of its own, and moves live leases into item slots', async () => {
    const old = await createTestDatabase({ migrated: false });
    try {
      const later = await migrateUpTo(old.pool, '0008');
      expect(later.slice(0, 2)).toEqual(['0009_people.sql', '0010_overlap.sql']);
      // What a deployment of 0008 holds: two projects, an admin key, two annotator keys (one revoked).
      const projects = await old.pool.query<{ id: string }>(`INSERT INTO projects (name, labels) VALUES ('p1', '{a,b}'), ('p2', '{a,b}') RETURNING id`);
      const [p1, p2] = projects.rows.map((r) => r.id) as [string, string];
      const keys = await old.pool.query<{ id: string; name: string }>(
        `INSERT INTO api_keys (name, key_hash, key_prefix, role, created_at, revoked_at) VALUES
           ('ops', 'h1', 'alder_aaaaaa', 'admin', now() - interval '3 days', NULL),
           ('ui', 'h2', 'alder_bbbbbb', 'annotator', now() - interval '2 days', NULL),
           ('old ui', 'h3', 'alder_cccccc', 'annotator', now() - interval '1 day', now())
         RETURNING id, name`,
      );
      const keyId = Object.fromEntries(keys.rows.map((k) => [k.name, k.id]));
      // A live lease of the single-holder model, with its copy on the item.
      const item = await old.pool.query<{ id: string }>(
        `INSERT INTO items (project_id, external_id, text, split, content_hash) VALUES ($1, 'x', 't', 'pool', '\\x00') RETURNING id`,
        [p1],
      );
      const itemId = item.rows[0]!.id;
      const lease = await old.pool.query<{ id: string; expires_at: Date }>(
        `INSERT INTO task_leases (id, project_id, item_id, annotator, api_key_id, selection_strategy, expires_at)
         VALUES (gen_random_uuid(), $1, $2, 'ui', $3, 'unranked', now() + interval '10 minutes') RETURNING id, expires_at`,
        [p1, itemId, keyId.ui],
      );
      const leaseId = lease.rows[0]!.id;
      await old.pool.query('UPDATE items SET lease_id = $2, leased_by = $3, lease_expires_at = $4 WHERE id = $1', [itemId, leaseId, 'ui', lease.rows[0]!.expires_at]);

      expect(await migrate(old.pool)).toEqual(later);

      // Each key is a user named as it was, in key order; an admin key's user is an admin.
      const users = await old.pool.query(
        `SELECT k.name AS key, u.name, u.role, u.active, k.revoked_at IS NOT NULL AS revoked
         FROM api_keys k JOIN users u ON u.id = k.user_id ORDER BY u.created_at, k.created_at`,
      );
      expect(users.rows).toEqual([
        { key: 'ops', name: 'ops', role: 'admin', active: true, revoked: false },
        { key: 'ui', name: 'ui', role: 'member', active: true, revoked: false },
        { key: 'old ui', name: 'old ui', role: 'member', active: true, revoked: true },
      ]);
      expect((await old.pool.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(3);
      const owners = await old.pool.query('SELECT count(DISTINCT user_id)::int AS n FROM api_keys');
      expect(owners.rows[0].n).toBe(3);
      // An annotator key's user keeps its reach: an annotator of every project there was.
      const members = await old.pool.query(`SELECT u.name, m.project_id, m.role FROM project_members m JOIN users u ON u.id = m.user_id`);
      const byNameAndProject = (a: { name: string; project_id: string }, b: { name: string; project_id: string }) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : a.project_id < b.project_id ? -1 : a.project_id > b.project_id ? 1 : 0;
      expect(members.rows.sort(byNameAndProject)).toEqual(
        [
          { name: 'old ui', project_id: p1, role: 'annotator' },
          { name: 'old ui', project_id: p2, role: 'annotator' },
          { name: 'ui', project_id: p1, role: 'annotator' },
          { name: 'ui', project_id: p2, role: 'annotator' },
        ].sort(byNameAndProject),
      );
      // The key role is gone: the user's role (and memberships) say what a key may do.
      const column = async (table: string, name: string) =>
        (await old.pool.query('SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2', [table, name])).rowCount;
      expect(await column('api_keys', 'role')).toBe(0);
      await expect(old.pool.query(`INSERT INTO api_keys (name, key_hash, key_prefix) VALUES ('ownerless', 'h4', 'alder_dddddd')`)).rejects.toThrow(/user_id/);

      // The live lease holds slot 0 of its item until it expires; the item's lease columns are gone.
      const slots = await old.pool.query('SELECT item_id, slot, required_annotations, lease_id, project_id, ranking_id, expires_at FROM item_slots');
      expect(slots.rows).toEqual([
        { item_id: itemId, slot: 0, required_annotations: 1, lease_id: leaseId, project_id: p1, ranking_id: null, expires_at: lease.rows[0]!.expires_at },
      ]);
      for (const name of ['lease_id', 'leased_by', 'lease_expires_at', 'lease_ranking_id']) expect([name, await column('items', name)]).toEqual([name, 0]);
      const overlap = await old.pool.query('SELECT overlap_annotators, overlap_fraction FROM projects WHERE id = $1', [p1]);
      expect(overlap.rows[0]).toEqual({ overlap_annotators: 1, overlap_fraction: 1 });
    } finally {
      await old.drop();
    }
  });
});

describe('withTransaction', () => {
  it('rolls back everything when the work throws', async () => {
    await expect(
      withTransaction(db.pool, async (client) => {
        await client.query(`INSERT INTO projects (name, labels) VALUES ('rolled-back', '{a,b}')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rowCount } = await db.pool.query(`SELECT 1 FROM projects WHERE name = 'rolled-back'`);
    expect(rowCount).toBe(0);
  });
});
