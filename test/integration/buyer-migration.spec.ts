import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { BuyerPrivacy1795610000000 } from '../../migrations/1795610000000-buyer-privacy';
import { setMigrationKeys } from '../../migrations/migration-keys';
import { SecretBox } from '../../src/common/secret-box';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabaseExists } from '../../src/database/prepare-database';
import { buyerEmailIndexes, openBuyer } from '../../src/shopping/orders/buyer-record';
import { dropDatabase, PG_BASE, uniqueName } from '../support/test-env';

/** The migration that seals what `orders.customer` held in clear before it. */
describe('buyer privacy migration (real Postgres)', () => {
  const url = `${PG_BASE}/${uniqueName('cbt_mig')}`;
  afterAll(() => dropDatabase(url));

  it('seals the clear customers of existing orders, indexes their email, drops the clear column', async () => {
    await ensureDatabaseExists(url);
    const at = MIGRATIONS.indexOf(BuyerPrivacy1795610000000);
    const before = new DataSource({
      ...buildDataSourceOptions({ databaseUrl: url }),
      migrations: MIGRATIONS.slice(0, at),
    });
    await before.initialize();
    await before.runMigrations();
    const [{ id: partnerId }] = await before.query(
      `INSERT INTO partners (name) VALUES ('p') RETURNING id`,
    );
    const [{ id: brandId }] = await before.query(
      `INSERT INTO brands (partner_id, name) VALUES ($1, 'b') RETURNING id`,
      [partnerId],
    );
    const customer = { email: 'Legacy.Buyer@example.com', name: 'Lorna Legacy' };
    const [{ id: orderId }] = await before.query(
      `INSERT INTO orders (partner_id, brand_id, external_id, status, customer, updated_at)
       VALUES ($1, $2, 'legacy-1', 'fulfilled', $3::jsonb, now() - interval '2 days') RETURNING id`,
      [partnerId, brandId, JSON.stringify(customer)],
    );
    await before.destroy();

    const key = { id: 'legacy', key: randomBytes(32) };
    setMigrationKeys([key]);
    const after = new DataSource(buildDataSourceOptions({ databaseUrl: url }));
    await after.initialize();
    try {
      expect((await after.runMigrations()).map((m) => m.name)).toContain(
        'BuyerPrivacy1795610000000',
      );
      const columns = await after.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'`,
      );
      expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain('customer');
      const [row] = await after.query(
        `SELECT customer_sealed, customer_key_id, customer_email_index, final_at FROM orders WHERE id = $1`,
        [orderId],
      );
      expect(row.customer_key_id).toBe('legacy');
      expect(row.customer_sealed).not.toContain('Lorna');
      const box = new SecretBox([key]);
      expect(
        openBuyer(box, orderId, { keyId: row.customer_key_id, sealed: row.customer_sealed }),
      ).toEqual(customer);
      expect(row.customer_email_index.equals(buyerEmailIndexes(box, customer.email)[0])).toBe(true);
      // A final order's retention counts from its last change.
      expect(row.final_at).toEqual(expect.any(Date));
    } finally {
      await after.destroy();
    }
  });
});
