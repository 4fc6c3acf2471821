import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { createPool, type Pool } from '../src/index';

// A Postgres restart ends every connection; here the test's own connections are ended (the
// shared server is never restarted by a test): what a process sees of a restart.
let db: TestDatabase;
let pool: Pool;
const lost: Error[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 2, applicationName: 'alder-pool-test', onClientError: (error) => lost.push(error) });
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

it('survives its connection ending under a checked-out client, and the next query gets a new one', async () => {
  // Checked out and between two queries (a transaction waiting for its caller): the connection's
  // end is an 'error' event on the client, which would end the process were nobody listening.
  const client = await pool.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  // The event comes when the socket closes (jest's timeout bounds the wait).
  while (!lost.length) await new Promise((r) => setTimeout(r, 20));
  await expect(client.query('SELECT 1')).rejects.toThrow();
  client.release(true);
  expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});
