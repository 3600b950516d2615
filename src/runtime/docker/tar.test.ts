import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { packTar, unpackTar } from './tar.js';

const longName = `${'deep/'.repeat(30)}file.txt`; // 158 chars: needs the ustar prefix
const hugeName = `${'x'.repeat(120)}/${'y'.repeat(120)}.txt`; // fits nowhere: PAX header

void test('packs and unpacks files, directories, modes and long names', () => {
  const tar = packTar([
    { name: 'dir', type: 'directory', mode: 0o1777 },
    { name: 'dir/a.txt', data: 'alpha\n', mode: 0o600, mtime: 1_700_000_000 },
    { name: 'bin', data: Buffer.from([0, 1, 2, 255]), mode: 0o755 },
    { name: longName, data: 'long' },
    { name: hugeName, data: 'huge' },
  ]);
  assert.equal(tar.length % 512, 0);
  const files = unpackTar(tar);
  assert.deepEqual(
    files.map((f) => [f.name, f.type, f.mode, f.data.toString('hex')]),
    [
      ['dir/', 'directory', 0o1777, ''],
      ['dir/a.txt', 'file', 0o600, Buffer.from('alpha\n').toString('hex')],
      ['bin', 'file', 0o755, '000102ff'],
      [longName, 'file', 0o644, Buffer.from('long').toString('hex')],
      [hugeName, 'file', 0o644, Buffer.from('huge').toString('hex')],
    ],
  );
  assert.equal(files[1]?.mtime, 1_700_000_000);
});

// Debian always has GNU tar: a missing one is a broken machine, so this test fails rather than skips.
void test('GNU tar reads what we write, and we read what it writes', () => {
  assert.equal(spawnSync('tar', ['--version']).status, 0, 'GNU tar is needed for this test');
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-tar-'));
  try {
    writeFileSync(join(dir, 'ours.tar'), packTar([{ name: 'a/b.txt', data: 'b', mode: 0o640 }]));
    assert.equal(spawnSync('tar', ['-xf', 'ours.tar'], { cwd: dir }).status, 0);
    assert.equal(readFileSync(join(dir, 'a/b.txt'), 'utf8'), 'b');
    assert.equal(statSync(join(dir, 'a/b.txt')).mode & 0o777, 0o640);
    assert.equal(spawnSync('tar', ['-cf', 'theirs.tar', 'a'], { cwd: dir }).status, 0);
    const files = unpackTar(readFileSync(join(dir, 'theirs.tar')));
    assert.deepEqual(
      files.map((f) => f.name),
      ['a/', 'a/b.txt'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
