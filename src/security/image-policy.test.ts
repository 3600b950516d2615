import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { parseImagePolicy, staticImageProblems } from './image-policy.js';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const indented = PEM.trim().split('\n').join('\n        ');
const D = 'sha256:' + 'a'.repeat(64);

test('a policy file parses; its keys must be ECDSA P-256 public keys', () => {
  const p = parseImagePolicy(
    `images:
  registries: [127.0.0.1:5000]
  repositories: ["127.0.0.1:5000/team/*"]
  refuseLatest: true
  signatures:
    keys:
      - |
        ${indented}
`,
    'policy.yaml',
  );
  assert.deepEqual(p.registries, ['127.0.0.1:5000']);
  assert.equal(p.keys.length, 1);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
  assert.throws(
    () =>
      parseImagePolicy(
        `images:\n  signatures:\n    keys:\n      - "not a key"\n      - |\n        ${rsa.trim().split('\n').join('\n        ')}\n`,
        'policy.yaml',
      ),
    (err: Error) => {
      assert.match(err.message, /policy.yaml:4:9 images.signatures.keys.0: not a PEM public key/);
      assert.match(
        err.message,
        /policy.yaml:5:9 images.signatures.keys.1: expected an ECDSA P-256 key/,
      );
      return true;
    },
  );
});

test('policy errors name file:line:col and the field', () => {
  assert.throws(
    () => parseImagePolicy('images:\n  refuseLatest: yes please\n  regitries: []\n', 'p.yaml'),
    (err: Error) => {
      assert.match(err.message, /p.yaml:2:17 images.refuseLatest: expected true or false/);
      assert.match(err.message, /p.yaml:\d+:\d+ images: Unrecognized key: "regitries"/);
      return true;
    },
  );
  assert.throws(() => parseImagePolicy('images: [', 'p.yaml'), /p.yaml:1:\d+ invalid YAML/);
});

test('registries, repositories, :latest and digests', () => {
  const policy = {
    registries: ['127.0.0.1:5000'],
    repositories: ['127.0.0.1:5000/team/*'],
    refuseLatest: true,
    requireDigest: true,
    keys: [],
  };
  assert.deepEqual(staticImageProblems(`127.0.0.1:5000/team/web@${D}`, policy), []);
  assert.match(
    staticImageProblems(`nginx@${D}`, policy).join(),
    /registry docker.io is not allowed/,
  );
  assert.match(
    staticImageProblems(`127.0.0.1:5000/other/web@${D}`, policy).join(),
    /repository 127.0.0.1:5000\/other\/web is not allowed/,
  );
  const latest = staticImageProblems('127.0.0.1:5000/team/web', policy);
  assert.match(latest.join(), /means :latest/);
  assert.match(latest.join(), /has no digest/);
  assert.deepEqual(
    staticImageProblems('anything:v1', {
      ...policy,
      registries: null,
      repositories: null,
      requireDigest: false,
    }),
    [],
  );
});
