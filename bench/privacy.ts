/**
 * Buyers' privacy at volume, on real Postgres (no HTTP): N orders with sealed buyers, then
 * - finding one buyer's orders by the blind index (what an export or erase request does),
 *   against decrypting every row to compare emails (what the index avoids);
 * - key rotation of every buyer record (k1 → k2), rows per second;
 * - the retention job erasing every buyer, rows per second.
 * Run: npm run bench:privacy [-- N]   (default 20,000 orders)
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/env.schema';
import { SecretBox } from '../src/common/secret-box';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { prepareDatabase } from '../src/database/prepare-database';
import { KeyRotationService } from '../src/keys/key-rotation.service';
import { SEALED_COLUMNS } from '../src/keys/sealed-columns';
import { normalizeEmail, openBuyer, sealBuyer } from '../src/shopping/orders/buyer-record';
import { OrderBuyerData } from '../src/shopping/orders/order-buyer-data.service';
import { dropDatabase, testEnv } from '../test/support/test-env';

const N = Number(process.argv[2] ?? 20_000);
const BUYERS = Math.max(1, Math.floor(N / 4));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const config = loadConfig(
    testEnv({ ENCRYPTION_KEYS: `k1:${k1.key.toString('base64')}`, LOG_LEVEL: 'warn' }),
  );
  await prepareDatabase(config);
  const db = new DataSource(buildDataSourceOptions(config));
  await db.initialize();
  try {
    const box1 = new SecretBox([k1]);
    const [{ id: partnerId }] = await db.query(
      `INSERT INTO partners (name) VALUES ('bench') RETURNING id`,
    );
    const [{ id: brandId }] = await db.query(
      `INSERT INTO brands (partner_id, name) VALUES ($1, 'bench') RETURNING id`,
      [partnerId],
    );
    const t0 = Date.now();
    const CHUNK = 1000;
    for (let i = 0; i < N; i += CHUNK) {
      const rows = Array.from({ length: Math.min(CHUNK, N - i) }, (_, j) => {
        const n = i + j;
        const id = crypto.randomUUID();
        const s = sealBuyer(box1, id, {
          email: `buyer${n % BUYERS}@example.com`,
          name: `Buyer ${n % BUYERS}`,
          phone: '+1 555 0100',
          shippingAddress: { address1: `${n} Main St`, city: 'Springfield', country: 'US' },
        });
        return [id, `ext-${n}`, s.sealed, s.keyId, s.emailIndex];
      });
      await db.query(
        `INSERT INTO orders (id, partner_id, brand_id, external_id, status, customer_sealed,
                             customer_key_id, customer_email_index, final_at)
         SELECT r.id, $1, $2, r.ext, 'fulfilled', r.sealed, r.kid, r.idx, now() - interval '40 days'
           FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[])
                AS r(id, ext, sealed, kid, idx)`,
        [
          partnerId,
          brandId,
          rows.map((r) => r[0]),
          rows.map((r) => r[1]),
          rows.map((r) => r[2]),
          rows.map((r) => r[3]),
          rows.map((r) => r[4]),
        ],
      );
    }
    await db.query('ANALYZE orders');
    console.log(`${N} orders of ${BUYERS} buyers sealed and written in ${Date.now() - t0} ms`);

    const buyers = new OrderBuyerData(db, box1);
    const lookups: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = process.hrtime.bigint();
      const found = await buyers.findByEmail(db.manager, { partnerId }, `BUYER${i}@example.com`);
      lookups.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (found.length !== 4) throw new Error(`expected 4 orders, found ${found.length}`);
    }
    const s = Date.now();
    const all: Array<{ id: string; customer_sealed: string; customer_key_id: string }> =
      await db.query(`SELECT id, customer_sealed, customer_key_id FROM orders`);
    const target = normalizeEmail('buyer7@example.com');
    const scanned = all.filter(
      (r) =>
        normalizeEmail(
          openBuyer(box1, r.id, { keyId: r.customer_key_id, sealed: r.customer_sealed }).email,
        ) === target,
    ).length;
    const scanMs = Date.now() - s;
    console.log(
      `find one buyer's orders: blind index ${median(lookups).toFixed(2)} ms (median of 50); ` +
        `decrypting every row ${scanMs} ms (${scanned} found)`,
    );

    const rotation = new KeyRotationService(db, new SecretBox([k2, k1]));
    rotation.columns = SEALED_COLUMNS.filter((c) => c.table === 'orders');
    const r0 = Date.now();
    const report = await rotation.rotate();
    const rotMs = Date.now() - r0;
    const moved = report.resealed['orders.customer_sealed'];
    console.log(
      `rotation k1 → k2: ${moved} buyer records in ${rotMs} ms (${Math.round((moved / rotMs) * 1000)} rows/s, ` +
        `${report.batches} batches); left under k1: ${report.remaining.filter((c) => c.keyId === 'k1').length}`,
    );

    const e0 = Date.now();
    const erased = await new OrderBuyerData(db, new SecretBox([k2])).eraseExpired(30 * 86_400_000);
    const eraseMs = Date.now() - e0;
    console.log(
      `retention: ${erased.erased} buyers erased in ${eraseMs} ms (${Math.round((erased.erased / eraseMs) * 1000)} rows/s, ${erased.batches} batches)`,
    );
  } finally {
    await db.destroy();
    await dropDatabase(config.databaseUrl);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
