import { IsString, ValidationError } from 'class-validator';
import type { AppError } from './errors';
import { createValidationPipe, flattenValidationErrors, IsOmittable } from './validation';

describe('flattenValidationErrors', () => {
  it('names nested and array fields with a path', () => {
    const err = (
      property: string,
      constraints?: Record<string, string>,
      children: ValidationError[] = [],
    ) => Object.assign(new ValidationError(), { property, constraints, children });
    const errors = [
      err('name', { isString: 'name must be a string' }),
      err('lineItems', undefined, [
        err('0', undefined, [err('quantity', { min: 'quantity must not be less than 1' })]),
      ]),
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'name', message: 'name must be a string' },
      { field: 'lineItems[0].quantity', message: 'quantity must not be less than 1' },
    ]);
  });
});

describe('IsOmittable', () => {
  class Patch {
    @IsOmittable()
    @IsString()
    name?: string;
  }
  const check = async (body: unknown) => {
    try {
      await createValidationPipe().transform(body, { type: 'body', metatype: Patch });
      return null;
    } catch (e) {
      return (e as AppError).details;
    }
  };
  it('lets the field be left out', async () => expect(await check({})).toBeNull());
  it('refuses null, unlike IsOptional', async () =>
    expect(await check({ name: null })).toEqual([
      { field: 'name', message: 'name must be a string' },
    ]));
});
