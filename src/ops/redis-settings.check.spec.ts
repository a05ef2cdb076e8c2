import { redisSettingsProblems } from './redis-settings.check';

describe('Redis production settings', () => {
  it('is quiet for AOF on and noeviction', () => {
    expect(redisSettingsProblems({ appendonly: 'yes', maxmemoryPolicy: 'noeviction' })).toEqual([]);
  });
  it('names AOF off and an evicting policy', () => {
    const p = redisSettingsProblems({ appendonly: 'no', maxmemoryPolicy: 'allkeys-lru' });
    expect(p).toHaveLength(2);
    expect(p[0]).toContain('appendonly');
    expect(p[1]).toContain('allkeys-lru');
  });
  it('says nothing about what it could not read (CONFIG disabled)', () => {
    expect(redisSettingsProblems({ appendonly: null, maxmemoryPolicy: null })).toEqual([]);
  });
});
