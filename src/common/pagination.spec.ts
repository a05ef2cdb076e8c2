import { AppError } from './errors';
import { decodeCursor, encodeCursor } from './pagination';

describe('keyset cursors', () => {
  it('round-trip', () => {
    const c = {
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      id: '5f0c6e6e-6f1b-4a51-9c55-2a5e1d6f3b10',
    };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });
  it.each(['', 'garbage', Buffer.from('2026-01-01|not-a-uuid').toString('base64url')])(
    'refuse %p as a 400 on "cursor"',
    (bad) => {
      try {
        decodeCursor(bad);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).details).toEqual([
          { field: 'cursor', message: 'cursor is invalid' },
        ]);
      }
    },
  );
});
