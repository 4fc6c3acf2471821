import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { migrate, withTransaction } from '../src/index';

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
