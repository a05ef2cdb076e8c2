import { ValidationError } from 'class-validator';
import { flattenValidationErrors } from './validation';

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
