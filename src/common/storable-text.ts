import type { IncomingMessage } from 'node:http';
import { AppError, ErrorCode, FieldProblem } from './errors';

/**
 * Text Postgres cannot store: it refuses U+0000 in `text` and `jsonb`, and a lone UTF-16
 * surrogate in `jsonb` (node-pg turns one into U+FFFD in `text`, silently changing it).
 * JSON allows both (`"\u0000"`, `"\ud800"`), so every parsed body and query string is
 * checked once here, before any route sees it, instead of field by field.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deeper JSON is refused outright: nothing in the API nests past a few levels. */
export const MAX_JSON_DEPTH = 32;
/** Problems reported for one request at most (a body may hold thousands). */
const MAX_PROBLEMS = 20;

function problemOf(text: string): string | null {
  const m = UNSTORABLE.exec(text);
  if (!m) return null;
  return m[0] === '\u0000'
    ? 'must not contain U+0000 (NUL)'
    : 'must not contain a lone UTF-16 surrogate';
}

/** `a.b[0].c`, as the validation pipe names fields; the root itself is `root`. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number' || /^\d+$/.test(key)) return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * Every string (values and property names, at any depth) of a parsed JSON value that
 * Postgres could not store, with its field path. Iterative, and refuses nesting deeper
 * than MAX_JSON_DEPTH, so a hostile body cannot exhaust the stack here or further on.
 */
export function unstorableText(value: unknown, root = 'body'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: Array<{ v: unknown; path: string; depth: number }> = [
    { v: value, path: '', depth: 0 },
  ];
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const message = problemOf(v);
      if (message) problems.push({ field: path || root, message });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      problems.push({ field: path || root, message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(v)
      ? v.map((item, i) => [i, item])
      : Object.entries(v);
    // Pushed in reverse so that problems come out in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i];
      if (typeof key === 'string') {
        const message = problemOf(key);
        if (message) {
          problems.push({ field: path || root, message: `a property name ${message}` });
          continue;
        }
      }
      stack.push({ v: item, path: childPath(path, key), depth: depth + 1 });
    }
  }
  return problems;
}

/** A path whose decoded segments hold NUL (route parameters reach SQL and file names). */
function unstorablePath(url: string | undefined): FieldProblem[] {
  const path = (url ?? '').split('?')[0];
  if (!/%00/i.test(path)) return [];
  return [{ field: 'path', message: 'must not contain U+0000 (NUL)' }];
}

type ParsedRequest = IncomingMessage & { body?: unknown; query?: unknown };

/**
 * Express middleware right after the body parsers: a body or query string with text
 * Postgres cannot store is a 400 VALIDATION_FAILED naming each field, and no route runs.
 */
export function storableTextMiddleware(
  req: ParsedRequest,
  _res: unknown,
  next: (err?: unknown) => void,
): void {
  const problems = [
    ...unstorablePath(req.url),
    ...unstorableText(req.query, 'query'),
    ...unstorableText(req.body, 'body'),
  ];
  if (problems.length === 0) return next();
  next(
    new AppError(
      ErrorCode.ValidationFailed,
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    ),
  );
}
