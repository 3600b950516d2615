import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Demuxer, collectOutput, demuxBuffer } from './stream.js';

function frame(kind: number, text: string): Buffer {
  const data = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

void test('demuxes whole frames', () => {
  const frames = demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, '')]));
  assert.deepEqual(
    frames.map((f) => [f.stream, f.data.toString()]),
    [
      ['stdout', 'out\n'],
      ['stderr', 'err\n'],
      ['stdout', ''],
    ],
  );
});

void test('reassembles frames split at any byte', async () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
  for (let size = 1; size <= all.length; size++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size));
    const out = await collectOutput(chunks);
    assert.deepEqual(out, { stdout: 'hello world', stderr: 'oops', combined: 'hello oopsworld' });
  }
});

void test('keeps an incomplete frame pending; tty streams are raw', async () => {
  const d = new Demuxer();
  assert.deepEqual(d.push(frame(1, 'abc').subarray(0, 9)), []);
  assert.equal(d.leftover, 9);
  const raw = await collectOutput([Buffer.from('plain text')], { tty: true });
  assert.equal(raw.stdout, 'plain text');
});
