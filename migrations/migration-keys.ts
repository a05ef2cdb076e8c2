import { loadConfigFromProcess, type EncryptionKey } from '../config/env.schema';

/**
 * The encryption keys a migration that seals data may use: the ones of the configuration
 * the database is prepared for (set by prepareDatabase before it runs migrations), else
 * those of the environment's configuration (the TypeORM CLI).
 */
let configured: EncryptionKey[] | null = null;

export function setMigrationKeys(keys: EncryptionKey[]): void {
  configured = keys;
}

export function migrationKeys(): EncryptionKey[] {
  return configured ?? loadConfigFromProcess().encryptionKeys;
}
