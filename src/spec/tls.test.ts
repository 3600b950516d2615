import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HotswapError } from '../errors.js';
import { makeCertificate } from '../tls/test-certificates.js';
import { parseSpec } from './parse.js';

const dir = mkdtempSync(join(tmpdir(), 'hotswap-spec-tls-'));
const file = join(dir, 'hotswap.yaml');

function cert(label: string): void {
  makeCertificate(dir, label, ['shop.example']);
}
cert('a');
cert('b');
writeFileSync(join(dir, 'junk.txt'), 'not a certificate');

const spec = (tls: string, extra = ''): string =>
  `services:\n  web:\n    image: app:v1\n    port: 8080\n    listen: 127.0.0.1:8443\n${extra}    tls:\n${tls}`;

function issues(text: string): string[] {
  try {
    parseSpec(text, file);
  } catch (err) {
    return (err as HotswapError).message.split('\n').slice(1);
  }
  return [];
}

test('tls files resolve against the spec folder; hsts is a span of days', () => {
  const parsed = parseSpec(
    spec(
      '      cert: a.crt\n      key: ./a.key\n      redirect: 127.0.0.1:8080\n      hsts: 180d\n',
    ),
    file,
  );
  assert.deepEqual(parsed.services[0]!.tls, {
    cert: join(dir, 'a.crt'),
    key: join(dir, 'a.key'),
    acme: null,
    redirect: '127.0.0.1:8080',
    hstsMaxAgeS: 180 * 86400,
    hstsIncludeSubDomains: false,
  });
});

test('a missing or mismatched certificate file is refused at its field', () => {
  const missing = issues(spec('      cert: a.crt\n      key: nope.key\n'));
  assert.equal(missing.length, 1, missing.join('\n'));
  assert.match(
    missing[0]!,
    /hotswap\.yaml:8:12 services\.web\.tls\.key: cannot read .*nope\.key \(ENOENT\)/,
  );
  const mismatched = issues(spec('      cert: a.crt\n      key: b.key\n'));
  assert.match(
    mismatched[0]!,
    /:8:12 services\.web\.tls\.key: .*b\.key is not the key of the certificate .*a\.crt/,
  );
  const notPem = issues(spec('      cert: junk.txt\n      key: a.key\n'));
  assert.match(notPem[0]!, /:7:13 services\.web\.tls\.cert: .* is not a PEM certificate/);
});

test('tls takes cert and key or acme; acme needs hosts and a redirect listener', () => {
  const none = issues(spec('      hsts: 1d\n'));
  assert.match(none[0]!, /services\.web\.tls: tls needs cert and key \(PEM files\), or acme/);
  const both = issues(
    spec(
      '      cert: a.crt\n      key: a.key\n      acme: { email: a@b.c, directory: "https://127.0.0.1:14000/dir" }\n',
    ),
  );
  assert.match(both[0]!, /services\.web\.tls: tls takes cert and key, or acme, not both/);
  const bare = issues(
    spec('      acme: { email: a@b.c, directory: "https://127.0.0.1:14000/dir" }\n'),
  );
  assert.equal(bare.length, 2, bare.join('\n'));
  assert.match(bare.join('\n'), /tls\.acme: acme certifies routing\.hosts/);
  assert.match(bare.join('\n'), /tls\.acme: acme answers its HTTP-01 challenge on tls\.redirect/);
  const badEmail = issues(spec('      acme: { email: nobody, directory: "https://x/dir" }\n'));
  assert.match(badEmail[0]!, /tls\.acme\.email: expected an e-mail address/);
  const tcp = issues(
    spec('      cert: a.crt\n      key: a.key\n', '    mode: tcp\n    health: { tcp: true }\n'),
  );
  assert.match(tcp.join('\n'), /services\.web\.tls: tls needs mode: http/);
});
