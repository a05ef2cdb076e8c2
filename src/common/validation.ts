import { ValidationPipe } from '@nestjs/common';
import { ValidateIf, type ValidationError, type ValidationOptions } from 'class-validator';
import { AppError, ErrorCode, FieldProblem } from './errors';

/**
 * A field that may be left out but is not nullable: unlike `@IsOptional()`, `null` is
 * validated (and refused by the field's other rules) instead of reaching the service,
 * which would store it in a NOT NULL column (a 500).
 */
export function IsOmittable(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined, options);
}

/** Flattens nested class-validator errors into `{field: "a.b[0].c", message}`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = /^\d+$/.test(e.property)
      ? `${parent}[${e.property}]`
      : parent
        ? `${parent}.${e.property}`
        : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flattenValidationErrors(errors);
      const message = details.length
        ? details.map((d) => `${d.field}: ${d.message}`).join('; ')
        : 'request body is invalid';
      return new AppError(ErrorCode.ValidationFailed, message, details);
    },
  });
}
