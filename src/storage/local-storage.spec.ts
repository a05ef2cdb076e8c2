import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from './local-storage';

async function text(s: LocalStorage, key: string): Promise<string | null> {
  const o = await s.get(key);
  if (!o) return null;
  const chunks: Buffer[] = [];
  for await (const c of o.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('LocalStorage', () => {
  let dir: string;
  let s: LocalStorage;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cb-storage-'));
    s = new LocalStorage(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('puts, gets, reads, deletes one key and a folder', async () => {
    await s.put('hls/a/index.m3u8', Buffer.from('#EXTM3U\n'));
    const src = join(dir, 'src.ts');
    await writeFile(src, 'segment');
    expect(await s.putFile('hls/a/seg_1.ts', src)).toBe(7);
    const got = await s.get('hls/a/seg_1.ts');
    expect(got?.size).toBe(7);
    expect(got?.contentType).toBe('video/mp2t');
    got?.body.destroy();
    expect(await text(s, 'hls/a/index.m3u8')).toBe('#EXTM3U\n');
    expect((await s.read('hls/a/seg_1.ts'))?.toString()).toBe('segment');
    await s.delete('hls/a/seg_1.ts');
    expect(await s.get('hls/a/seg_1.ts')).toBeNull();
    await s.deletePrefix('hls/a/');
    expect(await s.read('hls/a/index.m3u8')).toBeNull();
    expect(await s.presignedUrl()).toBeNull();
  });

  it('refuses keys that could leave their folder', async () => {
    await expect(s.put('../x', Buffer.from(''))).rejects.toThrow('invalid storage key');
    await expect(s.get('a//b')).rejects.toThrow('invalid storage key');
    await expect(s.deletePrefix('hls/a')).rejects.toThrow('folder');
  });
});
