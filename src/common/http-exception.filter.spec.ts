import { BadRequestException } from '@nestjs/common';

/** What body-parser passes on (an `http-errors` error): status, expose, no `type` here. */
const createError = (status: number, message: string | Error) =>
  Object.assign(new Error(String(message)), { status, statusCode: status, expose: status < 500 });
import { errorBody, fromBodyParser } from './http-exception.filter';

describe('fromBodyParser', () => {
  it('turns a body that is not the gzip it claims (an untyped 4xx http-error) into a 400 on body', () => {
    const zlib = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR' });
    const err = createError(400, zlib);
    expect(errorBody(err, 'r1')).toEqual({
      statusCode: 400,
      error: 'VALIDATION_FAILED',
      message: 'body: request body could not be read',
      details: [{ field: 'body', message: 'request body could not be read' }],
      requestId: 'r1',
    });
  });
  it('leaves Nest exceptions and server errors alone', () => {
    expect(fromBodyParser(new BadRequestException('x'))).toBeNull();
    expect(fromBodyParser(createError(500, 'stream.not.readable'))).toBeNull();
    expect(fromBodyParser(new Error('boom'))).toBeNull();
  });
});
