import type { NextFunction, Request, Response } from 'express';
import { basicAuthMatches, basicAuthMiddleware } from './basic-auth';

const creds = { user: 'ops', password: 'p:ss wörd' };
const header = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('basic auth', () => {
  it('accepts exactly the configured user and password (colons allowed in the password)', () => {
    expect(basicAuthMatches(header('ops', 'p:ss wörd'), creds)).toBe(true);
    expect(basicAuthMatches(header('ops', 'p:ss wörd').replace('Basic', 'basic'), creds)).toBe(
      true,
    );
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['wrong password', header('ops', 'p:ss word')],
    ['wrong user', header('Ops', 'p:ss wörd')],
    ['password prefix', header('ops', 'p:ss')],
    ['no colon', `Basic ${Buffer.from('opsp:ss wörd').toString('base64')}`],
    ['bearer', 'Bearer p:ss wörd'],
    ['garbage', 'Basic !!!'],
  ])('refuses %s', (_what, h) => {
    expect(basicAuthMatches(h, creds)).toBe(false);
  });

  it('refuses an empty password even when the configured one were empty-equal', () => {
    expect(basicAuthMatches(header('', ''), { user: 'a', password: 'b' })).toBe(false);
  });

  function run(authorization?: string) {
    const req = { headers: { authorization }, id: 'rid-1' } as unknown as Request;
    const res = {
      statusCode: 200,
      headers: {} as Record<string, string>,
      body: undefined as unknown,
      status(code: number) {
        this.statusCode = code;
        return this;
      },
      set(name: string, value: string) {
        this.headers[name] = value;
        return this;
      },
      json(body: unknown) {
        this.body = body;
        return this;
      },
    };
    const next = jest.fn() as NextFunction;
    basicAuthMiddleware(creds)(req, res as unknown as Response, next);
    return { res, next };
  }

  it('middleware: passes with the credentials', () => {
    const { next, res } = run(header('ops', 'p:ss wörd'));
    expect(next).toHaveBeenCalledTimes(1);
    expect(res.statusCode).toBe(200);
  });

  it('middleware: 401 with a Basic challenge and the API error shape otherwise', () => {
    const { next, res } = run(header('ops', 'nope'));
    expect(next).not.toHaveBeenCalled();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="Castbridge ops", charset="UTF-8"');
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      message: 'ops credentials required',
      details: [],
      requestId: 'rid-1',
    });
  });
});
