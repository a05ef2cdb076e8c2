import { HttpStatus } from '@nestjs/common';

/** Stable error codes of API.md; the one exception filter maps them to HTTP. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  /** A cap per partner (API.md "Errors"): destinations per channel, transcodes per partner. */
  LimitReached = 'LIMIT_REACHED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  /** RATE_LIMIT_PER_MINUTE exceeded (API.md "Errors"), with a Retry-After header. */
  RateLimited = 'RATE_LIMITED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  Internal = 'INTERNAL',
}

export const STATUS_OF: Record<ErrorCode, HttpStatus> = {
  [ErrorCode.ValidationFailed]: HttpStatus.BAD_REQUEST,
  [ErrorCode.Unauthorized]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.LimitReached]: HttpStatus.CONFLICT,
  [ErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.UnsupportedMediaType]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [ErrorCode.TooManyRequests]: HttpStatus.TOO_MANY_REQUESTS,
  [ErrorCode.RateLimited]: HttpStatus.TOO_MANY_REQUESTS,
  [ErrorCode.ServiceUnavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.Internal]: HttpStatus.INTERNAL_SERVER_ERROR,
};

export interface FieldProblem {
  field: string;
  message: string;
}

/** The one exception type our code throws for expected failures. */
export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NotFound, `${what} not found`);
  }

  static validation(field: string, message: string): AppError {
    return AppError.field(ErrorCode.ValidationFailed, field, message);
  }

  /** 413: a request body over the limit (body-parser's and the raw-body reader's). */
  static bodyTooLarge(): AppError {
    return AppError.field(ErrorCode.PayloadTooLarge, 'body', 'request body is too large');
  }

  /** 409: a cap per partner; `details` names the cap (`destinationsPerChannel`…). */
  static limitReached(cap: string, message: string): AppError {
    return AppError.field(ErrorCode.LimitReached, cap, message);
  }

  /** An error about one field: `field: message`, with the field in `details`. */
  static field(code: ErrorCode, field: string, message: string): AppError {
    return new AppError(code, `${field}: ${message}`, [{ field, message }]);
  }
}
