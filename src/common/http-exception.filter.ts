import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ErrorCode, FieldProblem, STATUS_OF } from './errors';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: FieldProblem[];
  requestId: string;
}

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.TooManyRequests,
  503: ErrorCode.ServiceUnavailable,
};

/** body-parser's errors carry `type` and `status`; map them without leaking internals. */
export function fromBodyParser(err: unknown): AppError | null {
  const e = err as { type?: string; status?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return AppError.validation('body', 'malformed JSON');
    case 'entity.too.large':
      return AppError.bodyTooLarge();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return AppError.field(ErrorCode.UnsupportedMediaType, 'body', 'unsupported encoding');
    default:
      // Its other refusals (a body that is not the gzip/deflate it claims, an aborted or
      // short body) are http-errors with a 4xx status and no `type` of their own.
      if (
        !(err instanceof HttpException) &&
        (err as { expose?: unknown })?.expose === true &&
        typeof e?.status === 'number' &&
        e.status >= 400 &&
        e.status < 500
      ) {
        return AppError.validation('body', 'request body could not be read');
      }
      return null;
  }
}

/**
 * Express error middleware placed right after the body parsers: turns their errors into
 * AppErrors before Nest rewrites a JSON SyntaxError into a bare BadRequestException.
 */
export function bodyParserErrorTranslator(
  err: unknown,
  _req: unknown,
  _res: unknown,
  next: (err?: unknown) => void,
): void {
  next(fromBodyParser(err) ?? err);
}

/** The API.md error body of any error; unknown errors become a bare 500 (no internals). */
export function errorBody(thrown: unknown, requestId: string): ErrorBody {
  const exception = fromBodyParser(thrown) ?? thrown;
  if (exception instanceof AppError) {
    return {
      statusCode: STATUS_OF[exception.code],
      error: exception.code,
      message: exception.message,
      details: exception.details,
      requestId,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code =
      CODE_OF_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
    const response = exception.getResponse();
    const message =
      status >= 500
        ? 'internal error'
        : typeof response === 'string'
          ? response
          : String((response as { message?: unknown }).message ?? exception.message);
    return { statusCode: status, error: code, message, details: [], requestId };
  }
  return {
    statusCode: 500,
    error: ErrorCode.Internal,
    message: 'internal error',
    details: [],
    requestId,
  };
}

/** A 5xx's cause goes to the log only: the message of an unknown error may carry internals. */
export function logServerError(logger: Logger, exception: unknown, requestId: string): void {
  const err = exception as Error;
  logger.error(
    { err: { name: err?.name, message: err?.message, stack: err?.stack }, requestId },
    'unhandled error',
  );
}

/** Maps every error to the API.md error shape; unknown errors become a bare 500. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const requestId = String(req.id ?? res.getHeader('x-request-id') ?? '');
    const body = errorBody(exception, requestId);
    if (body.statusCode >= 500) logServerError(this.logger, exception, requestId);
    if (res.headersSent) return;
    res.status(body.statusCode).json(body);
  }
}
