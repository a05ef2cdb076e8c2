import { Client } from 'pg';
import { PgListener } from '../../src/database/pg-listener';
import { waitFor } from '../support/processes';
import { PG_BASE } from '../support/test-env';

/** The outbox relay's wake-up: LISTEN that survives its connection being killed. */
describe('PgListener', () => {
  const url = `${PG_BASE}/postgres`;
  const channel = `cb_test_${process.pid}`;
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(() => admin.end());

  it('calls back on each NOTIFY, and listens again after its connection was terminated', async () => {
    let heard = 0;
    const listener = new PgListener(url, channel, () => (heard += 1));
    listener.start();
    await waitFor(async () => listener.listening, { what: 'listening' });
    const afterConnect = heard; // it calls back once on (re)connect: commits it could not hear
    expect(afterConnect).toBe(1);
    await admin.query(`NOTIFY ${channel}`);
    await waitFor(async () => heard === afterConnect + 1, { what: 'notification heard' });

    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE query = $1 AND pid <> pg_backend_pid()`,
      [`LISTEN ${channel}`],
    );
    await waitFor(async () => !listener.listening, { what: 'connection lost seen' });
    await waitFor(async () => listener.listening, { what: 'listening again', timeoutMs: 10_000 });
    const before = heard;
    await admin.query(`NOTIFY ${channel}`);
    await waitFor(async () => heard > before, { what: 'notification after reconnect' });
    await listener.close();
    expect(listener.listening).toBe(false);
  });
});
