// The differential smuggling fuzzer (fuzz/harness.ts) on both engines, bounded for `npm test`:
// every seed family (the regression cases) and 10,000 mutated cases per engine, from a fixed seed
// so a failure reproduces (`npm run fuzz -- --seed N` runs other seeds, for as long as you like).
// Then a shorter run per engine over TLS: a TLS connection is read and written by its own code
// (tls/tls-client.ts), and its reads come in record-sized pieces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpus } from './fuzz/corpus.js';
import { runFuzz, type FuzzResult } from './fuzz/harness.js';
import { makeCertificate } from '../../tls/test-certificates.js';
import { tempDir } from '../test-support.js';

const CASES_PER_ENGINE = 10_000;
const TLS_CASES_PER_ENGINE = 2_000;
const SEED = 20261201;

function explain(r: FuzzResult): string {
  return r.findings
    .slice(0, 5)
    .map((f) => `[${f.kind}] ${f.name}: ${f.detail}\n  input ${JSON.stringify(f.input)}`)
    .join('\n');
}

for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : "Node's http server";
  test(`no request smuggling through the ${engine} (${CASES_PER_ENGINE} fuzzed cases)`, async () => {
    const result = await runFuzz({ fastPath, cases: corpus(CASES_PER_ENGINE, SEED) });
    console.log(
      `${result.engine}: ${result.cases} cases in ${result.ms} ms, ${result.forwarded} requests ` +
        `forwarded, ${result.timeouts} timeouts (${result.timedOut.join(', ')}), ` +
        `${result.findings.length} findings`,
    );
    assert.ok(result.cases > CASES_PER_ENGINE, 'the corpus ran');
    assert.ok(result.forwarded > result.cases, 'requests reached the upstream');
    assert.deepEqual(result.findings, [], explain(result));
  });
}

const cert = makeCertificate(tempDir(), 'fuzz', ['fuzz']);
for (const fastPath of [true, false]) {
  const engine = fastPath ? 'fast path' : "Node's http server";
  test(`no request smuggling through the ${engine} over TLS (${TLS_CASES_PER_ENGINE} cases)`, async () => {
    const cases = corpus(TLS_CASES_PER_ENGINE, SEED + 1);
    const result = await runFuzz({ fastPath, tls: cert, cases });
    console.log(
      `${result.engine}: ${result.cases} cases in ${result.ms} ms, ${result.forwarded} requests ` +
        `forwarded, ${result.timeouts} timeouts, ${result.findings.length} findings`,
    );
    assert.ok(result.cases > TLS_CASES_PER_ENGINE, 'the corpus ran');
    assert.ok(result.forwarded > result.cases, 'requests reached the upstream');
    assert.deepEqual(result.findings, [], explain(result));
  });
}
