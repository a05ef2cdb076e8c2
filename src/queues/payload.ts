import { UnrecoverableError } from 'bullmq';

/**
 * Small checks for job payloads as they come off the queue: a job whose payload is
 * malformed fails for good (UnrecoverableError) instead of being retried.
 */
type Obj = Record<string, unknown>;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function obj(data: unknown): Obj {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UnrecoverableError('job payload must be an object');
  }
  return data as Obj;
}

export const payload = {
  obj,
  string(data: Obj, key: string): string {
    const v = data[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > 500) {
      throw new UnrecoverableError(`job payload field "${key}" must be a non-empty string`);
    }
    return v;
  },
  uuid(data: Obj, key: string): string {
    const v = data[key];
    if (typeof v !== 'string' || !UUID_RE.test(v)) {
      throw new UnrecoverableError(`job payload field "${key}" must be a uuid`);
    }
    return v;
  },
  int(data: Obj, key: string, min: number, max: number): number {
    const v = data[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new UnrecoverableError(
        `job payload field "${key}" must be an integer in [${min}, ${max}]`,
      );
    }
    return v;
  },
};
