import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigValidationError, loadConfigFromProcess } from '../../config/env.schema';
import { SecretBox } from '../common/secret-box';
import { buildDataSourceOptions } from '../database/data-source-options';
import { prepareDatabase } from '../database/prepare-database';
import {
  KeyRotationService,
  MissingEncryptionKeyError,
  type KeyCounts,
} from './key-rotation.service';

/**
 * `npm run keys:rotate`: re-seals every sealed column under the first key of ENCRYPTION_KEYS
 * (the same work as the keys.rotate job), printing progress and, at the end, how many values
 * each key still holds. Exit 0 when no value uses an older key, 1 on an error (such as a key
 * a row needs missing from ENCRYPTION_KEYS).
 */
function table(counts: KeyCounts, current: string): string {
  if (counts.length === 0) return '  (no sealed values)';
  return counts
    .map(
      (c) =>
        `  ${c.column.padEnd(40)} ${`"${c.keyId}"`.padEnd(12)} ${String(c.rows).padStart(8)}${c.keyId === current ? '  (current)' : ''}`,
    )
    .join('\n');
}

async function main(): Promise<number> {
  const config = loadConfigFromProcess();
  await prepareDatabase(config);
  const db = new DataSource(buildDataSourceOptions(config));
  await db.initialize();
  try {
    const box = new SecretBox(config.encryptionKeys);
    const rotation = new KeyRotationService(db, box);
    const current = box.currentKeyId();
    console.log(`keys:rotate: sealing everything under key "${current}"`);
    console.log(`before:\n${table(await rotation.countByKey(), current)}`);
    const report = await rotation.rotate({
      onBatch: (column, n) => console.log(`  ${column}: ${n} re-sealed`),
    });
    console.log(`after:\n${table(report.remaining, current)}`);
    const old = new Map<string, number>();
    for (const c of report.remaining) {
      if (c.keyId !== current) old.set(c.keyId, (old.get(c.keyId) ?? 0) + c.rows);
    }
    for (const id of box.keyIds().filter((k) => k !== current)) {
      console.log(
        `key "${id}": ${old.get(id) ?? 0} value(s) left${old.get(id) ? '' : ' — unused, it can be removed from ENCRYPTION_KEYS'}`,
      );
    }
    if (report.skipped > 0) {
      console.log(`${report.skipped} value(s) changed while this ran: run it again`);
    }
    return old.size === 0 ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof MissingEncryptionKeyError || err instanceof ConfigValidationError) {
      console.error(`keys:rotate: ${err.message}`);
    } else {
      console.error(`keys:rotate failed: ${(err as Error).message}`);
    }
    process.exit(1);
  },
);
