// `npm run fuzz`: a long run of the smuggling fuzzer against both engines of the proxy.
//   node dist/src/proxy/http/fuzz/main.js [--cases 200000] [--seed N] [--engine fast|node|both]
//                                     [--concurrency 24] [--seeds-only] [--tls]
// --tls: the listener serves TLS (a certificate made with openssl for the run) and the clients
// speak it, so the cases go through the TLS connection's own reads and writes.
// Exits 1 when it found anything (prints each finding's case: its bytes reproduce it), 2 on a
// usage error.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { corpus } from './corpus.js';
import { runFuzz, type FuzzResult } from './harness.js';
import { makeCertificate } from '../../../tls/test-certificates.js';
import { tempDir } from '../../test-support.js';

const USAGE =
  'usage: fuzz [--cases N] [--seed N] [--engine fast|node|both] [--concurrency N] [--seeds-only] [--tls]';

/** A usage error: what is wrong and the usage line on stderr, exit 2. */
function usageError(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        cases: { type: 'string', default: '200000' },
        seed: { type: 'string' },
        engine: { type: 'string', default: 'both' },
        concurrency: { type: 'string', default: '24' },
        'seeds-only': { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    return usageError((err as Error).message);
  }
}

/** `--name`'s value as a whole number >= min, or a usage error naming the flag. */
function wholeNumber(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min)
    usageError(`--${name}: must be a whole number >= ${min}, got "${text}"`);
  return n;
}

const values = parseCommandLine();
const cases = wholeNumber('cases', values.cases, 0);
const concurrency = wholeNumber('concurrency', values.concurrency, 1);
const seed =
  values.seed === undefined ? Date.now() % 1_000_000 : wholeNumber('seed', values.seed, 0);
if (!['fast', 'node', 'both'].includes(values.engine))
  usageError(`--engine: must be fast, node or both, got "${values.engine}"`);
const engines = values.engine === 'both' ? [true, false] : [values.engine === 'fast'];
const certDir = values.tls ? tempDir() : null;
const tls = certDir === null ? undefined : makeCertificate(certDir, 'fuzz', ['fuzz']);
let failed = false;
for (const fastPath of engines) {
  const result = await runFuzz({
    fastPath,
    tls,
    cases: corpus(values['seeds-only'] ? 0 : cases, seed),
    concurrency,
  });
  report(result, seed);
  failed ||= result.findings.length > 0;
}
if (certDir !== null) rmSync(certDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

function report(r: FuzzResult, seed: number): void {
  console.log(
    `${r.engine}: ${r.cases} cases (seed ${seed}) in ${r.ms} ms, ${r.forwarded} requests forwarded, ` +
      `${r.timeouts} timeouts, ${r.findings.length} findings`,
  );
  if (r.timeouts > 0) console.log(`  timed out: ${r.timedOut.join(', ')}`);
  const seen = new Set<string>();
  for (const f of r.findings) {
    const key = `${f.kind} ${f.name.split('+')[0]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    console.log(`  [${f.kind}] case ${f.caseId} ${f.name}: ${f.detail}`);
    console.log(`    input ${JSON.stringify(f.input)}`);
  }
}
