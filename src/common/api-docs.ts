import { applyDecorators, type Type } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiProperty, ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorCode, STATUS_OF } from './errors';

/** One field's problem in an error body (`details[]`). */
export class ErrorDetailDto {
  @ApiProperty({
    example: 'url',
    description: 'The field, with its path (`lineItems[0].quantity`)',
  })
  field: string;
  @ApiProperty({ example: 'must be an rtmp:// or rtmps:// URL' }) message: string;
}

/** The one error body of API.md "Errors" (`errorBody` in http-exception.filter.ts). */
export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.ValidationFailed })
  error: ErrorCode;
  @ApiProperty({ example: 'url: must be an rtmp:// or rtmps:// URL' }) message: string;
  @ApiProperty({ type: [ErrorDetailDto] }) details: ErrorDetailDto[];
  @ApiProperty({ example: '5f0c3f0e-7a51-4c39-9d5e-1b1f6a8f2c4d' }) requestId: string;
}

/** What each error status means on our routes; the codes are those of ErrorCode. */
const ERROR_MEANING: Record<number, string> = {
  400: '`VALIDATION_FAILED`: a field is wrong; `details` names each field. Nothing was changed.',
  401: '`UNAUTHORIZED`: the bearer token is missing or wrong.',
  404: "`NOT_FOUND`: no such resource for this caller (another partner's ids answer 404 too).",
  409: "`CONFLICT` (the resource's state forbids it) or `LIMIT_REACHED` (a cap; `details` names it).",
  413: '`PAYLOAD_TOO_LARGE`: the body is over 1 MB.',
  429: '`RATE_LIMITED`: over `RATE_LIMIT_PER_MINUTE`; retry after `Retry-After` seconds.',
  503: '`SERVICE_UNAVAILABLE`: a dependency (Postgres, Redis) is down; retry.',
};

function codesOf(status: number): ErrorCode[] {
  return Object.values(ErrorCode).filter((c) => STATUS_OF[c] === status);
}

/** Who may call an operation: the security scheme it names (bootstrap's document). */
export type ApiAuth = 'partner' | 'admin' | 'none';

export interface ApiDocOptions {
  summary: string;
  description: string;
  /** The success status (200 unless said). */
  status?: number;
  /** The class the handler returns (a DTO with @ApiProperty), or none for 202/204. */
  type?: Type<unknown>;
  /** Error statuses this operation can answer, besides 401/429 of an authenticated route. */
  errors?: number[];
  auth?: ApiAuth;
  /** An example of the success body (the main flows have one). */
  example?: unknown;
  /** What the success response means, when more than the summary. */
  responseDescription?: string;
  /** A route that does not answer JSON: its media type and the schema of its body. */
  produces?: { mediaType: string; schema: SchemaObject };
}

/**
 * The documentation of one operation: summary, description, the success response with
 * its schema (the DTO the controller returns) and every error it can answer with the
 * one error body. A test (openapi-document.spec.ts) refuses an operation without them.
 */
export function ApiDoc(o: ApiDocOptions): MethodDecorator {
  const auth = o.auth ?? 'partner';
  const status = o.status ?? 200;
  const errors = new Set<number>(o.errors ?? []);
  if (auth !== 'none') {
    errors.add(401);
    errors.add(429);
  }
  const description =
    o.responseDescription ??
    (o.type || o.produces ? o.summary : status === 204 ? 'Done; no body' : 'Accepted; no body');
  const decorators: MethodDecorator[] = [
    ApiOperation({ summary: o.summary, description: o.description }),
    o.produces
      ? ApiResponse({
          status,
          description,
          content: { [o.produces.mediaType]: { schema: o.produces.schema } },
        })
      : ApiResponse({
          status,
          description,
          ...(o.type ? { type: o.type } : {}),
          ...(o.example !== undefined ? { example: o.example } : {}),
        }),
  ];
  if (o.produces) decorators.push(ApiProduces(o.produces.mediaType, 'application/json'));
  for (const e of [...errors].sort()) {
    const codes = codesOf(e);
    decorators.push(
      ApiResponse({
        status: e,
        type: ErrorDto,
        description: ERROR_MEANING[e] ?? codes.map((c) => `\`${c}\``).join(', '),
        example: {
          statusCode: e,
          error: codes[0] ?? ErrorCode.Internal,
          message: e === 400 ? 'name: must be a non-empty string' : 'see the error code',
          details: e === 400 ? [{ field: 'name', message: 'must be a non-empty string' }] : [],
          requestId: '5f0c3f0e-7a51-4c39-9d5e-1b1f6a8f2c4d',
        },
      }),
    );
  }
  return applyDecorators(...decorators);
}
