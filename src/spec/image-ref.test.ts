import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImageRef, pullReference } from './image-ref.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

void describe('parseImageRef', () => {
  void it('splits registry, path, tag and digest as Docker does', () => {
    assert.deepEqual(parseImageRef('nginx'), {
      registry: null,
      path: 'nginx',
      tag: null,
      digest: null,
    });
    assert.deepEqual(parseImageRef('127.0.0.1:5000/team/web:v2'), {
      registry: '127.0.0.1:5000',
      path: 'team/web',
      tag: 'v2',
      digest: null,
    });
    assert.deepEqual(parseImageRef(`localhost/web@${DIGEST}`), {
      registry: 'localhost',
      path: 'web',
      tag: null,
      digest: DIGEST,
    });
    assert.deepEqual(pullReference(parseImageRef('web') as never), {
      repository: 'web',
      tagOrDigest: 'latest',
    });
  });

  void it('says what is wrong', () => {
    assert.equal(
      parseImageRef('web:'),
      'tag "" may only hold letters, digits, "_", "." and "-" (at most 128)',
    );
    assert.equal(
      parseImageRef('we$b'),
      '"we$b" is not a repository name part (lowercase letters, digits, ".", "_", "-")',
    );
    assert.equal(
      parseImageRef('bad_host:5000x/web'),
      'registry "bad_host:5000x" is not a host[:port]',
    );
    assert.equal(parseImageRef(':v1'), 'no repository name');
  });
});
