// The pure rules of policy.ts, case by case (the engines are held to them by conformance.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONNECT_TIMEOUT_CODE,
  connectionListed,
  forwardedFor,
  framingProblem,
  LOST_CODE,
  movableOnLoss,
  shouldRetry,
  TIMEOUT_CODE,
  upstreamFailure,
  type FailedAttempt,
} from './policy.js';

test('shouldRetry: once, before any byte was sent, or a bodiless idempotent request on a keep-alive race', () => {
  const base: FailedAttempt = {
    attempts: 1,
    connected: false,
    reused: false,
    method: 'POST',
    hasBody: true,
    code: 'ECONNREFUSED',
  };
  assert.equal(shouldRetry(base), true, 'nothing was sent');
  assert.equal(shouldRetry({ ...base, attempts: 2 }), false, 'only once');
  assert.equal(shouldRetry({ ...base, connected: true }), false, 'the app may have acted');
  const race = {
    ...base,
    connected: true,
    reused: true,
    method: 'GET',
    hasBody: false,
    code: 'ECONNRESET',
  };
  assert.equal(shouldRetry(race), true);
  assert.equal(shouldRetry({ ...race, code: 'EPIPE' }), true);
  assert.equal(shouldRetry({ ...race, reused: false }), false, 'a fresh connection was no race');
  assert.equal(shouldRetry({ ...race, method: 'POST' }), false);
  assert.equal(shouldRetry({ ...race, hasBody: true }), false);
  assert.equal(shouldRetry({ ...race, code: TIMEOUT_CODE }), false);
  const lost = { ...race, reused: false, code: LOST_CODE };
  assert.equal(shouldRetry(lost), true, 'cut from an unreachable instance, fresh connection too');
  assert.equal(shouldRetry({ ...lost, attempts: 2 }), false);
  assert.equal(shouldRetry({ ...lost, method: 'DELETE' }), false);
});

test('movableOnLoss: only what a reset may resend, and only before the answer began', () => {
  assert.equal(movableOnLoss('GET', false, false), true);
  assert.equal(movableOnLoss('HEAD', false, false), true);
  assert.equal(movableOnLoss('GET', false, true), false, 'part of the answer is out');
  assert.equal(movableOnLoss('GET', true, false), false);
  assert.equal(movableOnLoss('POST', false, false), false);
  const limits = { upstreamMs: 60000, connectMs: 3000 };
  assert.deepEqual(upstreamFailure({ code: LOST_CODE, message: 'failed probes' }, true, limits), {
    code: 'BAD_GATEWAY',
    status: 502,
    reason: 'failed probes',
  });
});

test('upstreamFailure: timeouts are 504 with the limit, the rest 502 with the phase', () => {
  const limits = { upstreamMs: 60000, connectMs: 3000 };
  assert.deepEqual(upstreamFailure({ code: TIMEOUT_CODE, message: '' }, true, limits), {
    code: 'UPSTREAM_TIMEOUT',
    status: 504,
    reason: 'upstream timed out (no response within 60000 ms)',
  });
  assert.equal(
    upstreamFailure({ code: CONNECT_TIMEOUT_CODE, message: '' }, false, limits).status,
    504,
  );
  assert.deepEqual(upstreamFailure({ code: 'ECONNREFUSED', message: 'x' }, false, limits), {
    code: 'BAD_GATEWAY',
    status: 502,
    reason: 'upstream connection failed (ECONNREFUSED)',
  });
  assert.equal(
    upstreamFailure({ message: 'parse' }, true, limits).reason,
    'upstream request failed (parse)',
  );
});

test('connectionListed never lists the framing headers', () => {
  const listed = connectionListed(
    'keep-alive, Content-Length, transfer-encoding, host, x-a, close',
    null,
  );
  assert.deepEqual([...(listed ?? [])], ['x-a']);
  assert.equal(connectionListed('close', null), null);
});

test('framingProblem: version, Transfer-Encoding, Host', () => {
  const ok = { minor: 1, transferEncoding: null, hosts: 1 };
  assert.equal(framingProblem(ok), null);
  assert.equal(framingProblem({ ...ok, transferEncoding: 'gzip, chunked' }), null);
  assert.match(
    String(framingProblem({ ...ok, transferEncoding: 'chunked, gzip' })),
    /does not end in chunked/,
  );
  assert.match(
    String(framingProblem({ ...ok, transferEncoding: 'chunked, chunked' })),
    /does not end/,
  );
  assert.match(
    String(framingProblem({ ...ok, minor: 0, transferEncoding: 'chunked' })),
    /HTTP\/1\.0/,
  );
  assert.equal(framingProblem({ ...ok, minor: 0, hosts: 0 }), null, 'HTTP/1.0 may omit Host');
  assert.match(String(framingProblem({ ...ok, hosts: 0 })), /no Host/);
  assert.match(String(framingProblem({ ...ok, hosts: 2 })), /more than one Host/);
  assert.match(String(framingProblem({ ...ok, minor: -1 })), /not an HTTP\/1\.0 or HTTP\/1\.1/);
});

test('forwardedFor appends the peer to the chain', () => {
  assert.equal(forwardedFor(undefined, '127.0.0.1'), '127.0.0.1');
  assert.equal(forwardedFor('1.2.3.4, 5.6.7.8', '::1'), '1.2.3.4, 5.6.7.8, ::1');
});
