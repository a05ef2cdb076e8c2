import type { EntityManager } from 'typeorm';

/** TypeORM answers an UPDATE … RETURNING as [rows, count] (an INSERT as rows): the rows. */
export async function updateReturning<T>(
  m: EntityManager,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const res: unknown = await m.query(sql, params);
  const arr = res as unknown[];
  return (Array.isArray(arr[0]) ? arr[0] : arr) as T[];
}
