import { AppError } from './errors';
import { MAX_JSON_DEPTH, storableTextMiddleware, unstorableText } from './storable-text';

const NUL = 'must not contain U+0000 (NUL)';
const SURROGATE = 'must not contain a lone UTF-16 surrogate';

describe('unstorableText', () => {
  it('accepts ordinary text, emoji (surrogate pairs) and non-strings', () => {
    expect(
      unstorableText({ name: 'Morning show 🎥', n: 1, ok: true, none: null, list: ['é', '😀'] }),
    ).toEqual([]);
    expect(unstorableText(undefined)).toEqual([]);
  });

  it('names each field holding NUL or a lone surrogate, at any depth, in the pipe’s path style', () => {
    const body = JSON.parse(
      '{"name":"a\\u0000b","customer":{"email":"x@y.z","shippingAddress":{"city":"\\ud800"}},' +
        '"lineItems":[{"variantId":"v"},{"variantId":"\\udc00x"}],"events":["ok","\\u0000"]}',
    ) as unknown;
    expect(unstorableText(body)).toEqual([
      { field: 'name', message: NUL },
      { field: 'customer.shippingAddress.city', message: SURROGATE },
      { field: 'lineItems[1].variantId', message: SURROGATE },
      { field: 'events[1]', message: NUL },
    ]);
  });

  it('refuses a reversed pair (low then high) but not a real pair', () => {
    expect(unstorableText({ a: '\udc00\ud800' })).toHaveLength(1);
    expect(unstorableText({ a: '\ud83d\ude00' })).toEqual([]);
  });

  it('names the object whose property name is unstorable', () => {
    expect(unstorableText(JSON.parse('{"profile":{"a\\u0000":1}}'))).toEqual([
      { field: 'profile', message: `a property name ${NUL}` },
    ]);
  });

  it('names the root for a bare string or array body', () => {
    expect(unstorableText('\u0000')).toEqual([{ field: 'body', message: NUL }]);
    expect(unstorableText(['\u0000'])).toEqual([{ field: '[0]', message: NUL }]);
    expect(unstorableText({ q: 'x\u0000' }, 'query')).toEqual([{ field: 'q', message: NUL }]);
  });

  it('refuses deep nesting without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(unstorableText({ a: deep })).toEqual([
      {
        field: `a${'[0]'.repeat(MAX_JSON_DEPTH - 1)}`,
        message: `nests deeper than ${MAX_JSON_DEPTH} levels`,
      },
    ]);
  });

  it('reports at most 20 problems', () => {
    expect(unstorableText(Array(1000).fill('\u0000'))).toHaveLength(20);
  });
});

describe('storableTextMiddleware', () => {
  const run = (req: object) => {
    const next = jest.fn();
    storableTextMiddleware(req as never, {}, next);
    return next.mock.calls[0][0] as unknown;
  };
  it('passes clean requests on', () =>
    expect(
      run({ url: '/v1/channels?q=a', query: { q: 'a' }, body: { name: 'x' } }),
    ).toBeUndefined());
  it('answers a 400 naming query, body and path fields', () => {
    const err = run({ url: '/v1/x/%00?q=%00', query: { q: '\u0000' }, body: { name: '\u0000' } });
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('VALIDATION_FAILED');
    expect((err as AppError).details.map((d) => d.field)).toEqual(['path', 'q', 'name']);
    expect((err as AppError).message).toContain('name: must not contain U+0000');
  });
});
