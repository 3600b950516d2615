// The self-signed certificate is a real X.509 v3 certificate: node parses and verifies it, a TLS
// client that trusts it (as --ca) completes a verified handshake, and openssl reads it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { test } from 'node:test';
import { selfSignedCertificate } from './x509.js';

test('node parses the certificate and its signature verifies', () => {
  const made = selfSignedCertificate(['localhost', '127.0.0.1', 'example.test']);
  const cert = new X509Certificate(made.certPem);
  assert.equal(cert.subject, 'CN=hotswap');
  assert.ok(cert.verify(cert.publicKey), 'self-signature');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.equal(cert.checkHost('example.test'), 'example.test');
  assert.equal(cert.checkHost('other.test'), undefined);
  assert.equal(cert.fingerprint256, made.fingerprint256);
  assert.ok(Date.parse(cert.validTo) > Date.now() + 800 * 86_400_000);
});

test('a client trusting the certificate completes a verified TLS handshake on 127.0.0.1', async () => {
  const made = selfSignedCertificate(['127.0.0.1']);
  const server = createServer({ cert: made.certPem, key: made.keyPem }, (s) => s.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const socket: TLSSocket = await new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, ca: made.certPem }, () => resolve(s));
      s.once('error', reject);
    });
    assert.equal(socket.authorized, true, String(socket.authorizationError));
    assert.equal(socket.getPeerCertificate().fingerprint256, made.fingerprint256);
    socket.destroy();
    // Without trusting it, the same handshake is refused.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      }),
      /self.signed/i,
    );
  } finally {
    server.close();
  }
});

test('openssl reads it as an X.509 v3 certificate with the alt names', (t) => {
  const made = selfSignedCertificate(['localhost', '127.0.0.1']);
  const r = spawnSync('openssl', ['x509', '-noout', '-text'], { input: made.certPem });
  if (r.error) return t.skip('no openssl on this machine');
  const text = r.stdout.toString();
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(text, /Version: 3/);
  assert.match(text, /ecdsa-with-SHA256/);
  assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
});
