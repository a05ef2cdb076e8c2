import { Initial1795462651781 } from './1795462651781-initial';
import { Commerce1795480000000 } from './1795480000000-commerce';

/**
 * Every migration, in order. Migrations are hand-checked SQL: relations are kept as
 * foreign keys here, not as TypeORM relation decorators.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: Function[] = [Initial1795462651781, Commerce1795480000000];
