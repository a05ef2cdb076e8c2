import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '../common/secret-box';
import { columnName, SEALED_COLUMNS, type SealedColumn } from './sealed-columns';

/** Rows re-sealed per transaction. */
export const ROTATION_BATCH = 200;

/** Sealed values per column and key id. */
export type KeyCounts = Array<{ column: string; keyId: string; rows: number }>;

export interface RotationReport {
  /** The key everything is sealed under now (the first of ENCRYPTION_KEYS). */
  currentKeyId: string;
  /** Values re-sealed, per column. */
  resealed: Record<string, number>;
  /** Values changed by someone else while they were re-sealed (left to their writer). */
  skipped: number;
  batches: number;
  /** Rows per key after the run: an old key with none left can be removed. */
  remaining: KeyCounts;
}

/** Rows still sealed under a key ENCRYPTION_KEYS no longer has. */
export class MissingEncryptionKeyError extends Error {
  constructor(readonly missing: KeyCounts) {
    const ids = [...new Set(missing.map((m) => m.keyId))];
    super(
      `ENCRYPTION_KEYS lacks key id${ids.length > 1 ? 's' : ''} ${ids.map((i) => `"${i}"`).join(', ')}, ` +
        `which sealed values still need (${missing
          .map((m) => `${m.column}: ${m.rows} under "${m.keyId}"`)
          .join('; ')}). Put the key back (after the new first key), run ` +
        '`npm run keys:rotate`, and remove it once no row uses it.',
    );
    this.name = 'MissingEncryptionKeyError';
  }
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const q = (ident: string) => `"${ident}"`;

/**
 * Key rotation over every sealed column (SEALED_COLUMNS): opens each value sealed under an
 * older key and seals it again under the first key of ENCRYPTION_KEYS, `batch` rows per
 * transaction. Each UPDATE applies only if the value is still the one read (a concurrent
 * writer wins), so it runs beside the service; it looks only at rows still under an older
 * key, so a run that stopped resumes where it was. Also counts rows per key (/metrics,
 * the start-up check).
 */
@Injectable()
export class KeyRotationService {
  private readonly logger = new Logger(KeyRotationService.name);

  /** The sealed columns it works on (every one; a test may narrow it). */
  columns: readonly SealedColumn[] = SEALED_COLUMNS;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  private cache: { at: number; counts: KeyCounts } | null = null;

  /** countByKey, or its last answer when that is younger than `maxAgeMs` (/metrics). */
  async recentCounts(maxAgeMs: number): Promise<KeyCounts> {
    if (this.cache && Date.now() - this.cache.at <= maxAgeMs) return this.cache.counts;
    return this.countByKey();
  }

  /** How many sealed values each key holds, per column (keys with none are not listed). */
  async countByKey(): Promise<KeyCounts> {
    const out: KeyCounts = [];
    for (const c of this.columns) {
      const rows: Array<{ key_id: string; n: number }> = await this.db.query(
        `SELECT ${q(c.keyIdColumn)} AS key_id, count(*)::int AS n FROM ${q(c.table)}
          WHERE ${q(c.sealedColumn)} IS NOT NULL GROUP BY 1 ORDER BY 1`,
      );
      for (const r of rows) out.push({ column: columnName(c), keyId: r.key_id, rows: r.n });
    }
    this.cache = { at: Date.now(), counts: out };
    return out;
  }

  /** Throws MissingEncryptionKeyError when a row needs a key that is not configured. */
  async assertKeysPresent(): Promise<KeyCounts> {
    const counts = await this.countByKey();
    const missing = counts.filter((c) => !this.box.hasKey(c.keyId));
    if (missing.length > 0) throw new MissingEncryptionKeyError(missing);
    return counts;
  }

  async rotate(
    opts: {
      batch?: number;
      signal?: AbortSignal;
      onBatch?: (column: string, resealed: number) => void;
    } = {},
  ): Promise<RotationReport> {
    await this.assertKeysPresent();
    const batch = opts.batch ?? ROTATION_BATCH;
    const current = this.box.currentKeyId();
    const report: RotationReport = {
      currentKeyId: current,
      resealed: {},
      skipped: 0,
      batches: 0,
      remaining: [],
    };
    for (const c of this.columns) {
      const name = columnName(c);
      report.resealed[name] = 0;
      let after = NIL_UUID;
      for (;;) {
        opts.signal?.throwIfAborted();
        const { resealed, skipped, lastId } = await this.rotateBatch(c, current, after, batch);
        if (lastId === null) break;
        after = lastId;
        report.resealed[name] += resealed;
        report.skipped += skipped;
        report.batches++;
        opts.onBatch?.(name, resealed);
      }
    }
    report.remaining = await this.countByKey();
    const total = Object.values(report.resealed).reduce((a, b) => a + b, 0);
    if (total > 0) this.logger.log(`re-sealed ${total} value(s) under key "${current}"`);
    return report;
  }

  private async rotateBatch(
    c: SealedColumn,
    current: string,
    after: string,
    batch: number,
  ): Promise<{ resealed: number; skipped: number; lastId: string | null }> {
    return this.db.transaction(async (m) => {
      const rows: Array<{ id: string; sealed: string; key_id: string }> = await m.query(
        `SELECT ${q(c.idColumn)}::text AS id, ${q(c.sealedColumn)} AS sealed, ${q(c.keyIdColumn)} AS key_id
           FROM ${q(c.table)}
          WHERE ${q(c.sealedColumn)} IS NOT NULL AND ${q(c.keyIdColumn)} <> $1 AND ${q(c.idColumn)} > $2
          ORDER BY ${q(c.idColumn)} LIMIT $3`,
        [current, after, batch],
      );
      if (rows.length === 0) return { resealed: 0, skipped: 0, lastId: null };
      // Opened and sealed again here; written back in one statement, each row only if it
      // still holds the value read (a writer that changed it meanwhile wins).
      const derivedCols = c.derived?.columns ?? [];
      const next = rows.map((r) => {
        const plaintext = this.box.open({ keyId: r.key_id, sealed: r.sealed }, c.aad(r.id));
        return {
          sealed: this.box.seal(plaintext, c.aad(r.id)),
          derived: c.derived?.values(this.box, plaintext) ?? [],
        };
      });
      const arrays: unknown[] = [
        rows.map((r) => r.id),
        rows.map((r) => r.sealed),
        next.map((n) => n.sealed.sealed),
        next.map((n) => n.sealed.keyId),
        ...derivedCols.map((_, i) => next.map((n) => n.derived[i])),
      ];
      const derivedNames = derivedCols.map((_, i) => `d${i}`);
      const res: [unknown[], number] = await m.query(
        `UPDATE ${q(c.table)} t
            SET ${[
              `${q(c.sealedColumn)} = v.new_sealed`,
              `${q(c.keyIdColumn)} = v.new_key_id`,
              ...derivedCols.map((d, i) => `${q(d.name)} = v.${derivedNames[i]}`),
            ].join(', ')}
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]${derivedCols
             .map((d, i) => `, $${i + 5}::${d.type}[]`)
             .join('')}) AS v(id, old_sealed, new_sealed, new_key_id${derivedNames
             .map((n) => `, ${n}`)
             .join('')})
          WHERE t.${q(c.idColumn)} = v.id AND t.${q(c.sealedColumn)} = v.old_sealed`,
        arrays,
      );
      const resealed = res[1];
      const skipped = rows.length - resealed;
      return { resealed, skipped, lastId: rows.length ? rows[rows.length - 1].id : null };
    });
  }
}
