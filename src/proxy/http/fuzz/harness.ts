// The differential smuggling fuzzer: each case's bytes go through a real proxy (fast path or
// Node's http server) to a recording upstream that reads them with the strict parser. The
// client's bytes are read with the same strict parser to know which requests an unambiguous
// reading holds. Every request the upstream read must be one of those, in order, with the same
// method, target and body; the upstream's bytes must all parse; and every client, including a
// victim that connects after each case and lands on the pooled upstream connection it left,
// must get the responses to its own requests only.
import net from 'node:net';
import tls from 'node:tls';
import { ProxyClient } from '../../control/control-client.js';
import { runProxy, type RunningProxy } from '../../main.js';
import { freePort, tempDir } from '../../test-support.js';
import { tag, untag, type FuzzCase } from './cases.js';
import { parseRequests, type StrictParse, type StrictRequest } from './strict-http.js';
import { join } from 'node:path';
import type { TlsConfig } from '../../types.js';

export interface Finding {
  caseId: number;
  name: string;
  kind: string;
  detail: string;
  /** The case's bytes, latin1. */
  input: string;
}

export interface FuzzResult {
  engine: string;
  cases: number;
  /** Requests the upstream received (victims included). */
  forwarded: number;
  /** Cases whose connection hit the per-case time limit (not a finding: a proxy may wait). */
  timeouts: number;
  /** Names of the first few of them. */
  timedOut: string[];
  findings: Finding[];
  ms: number;
}

export interface FuzzOptions {
  fastPath: boolean;
  /** The listener serves TLS with this certificate (clients connect with TLS): the TLS
   * connection's own reads and writes (tls/tls-client.ts) under the same cases. */
  tls?: TlsConfig;
  cases: Iterable<FuzzCase>;
  concurrency?: number;
  /** Per-case limit on waiting for responses. */
  caseTimeoutMs?: number;
}

interface Record {
  seq: number;
  req: StrictRequest;
}

/** The app: reads requests strictly, answers each with its target, keeps what it read. */
class RecordingUpstream {
  readonly records: Record[] = [];
  readonly garbage: Array<{ reason: string; bytes: string }> = [];
  private seq = 0;
  readonly server = net.createServer((socket) => this.serve(socket));

  private serve(socket: net.Socket): void {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    // A reset instead of a FIN: tens of thousands of connections in a minute would otherwise
    // leave loopback's ephemeral ports in TIME_WAIT.
    socket.on('end', () => socket.resetAndDestroy());
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const parse = parseRequests(buf);
      for (const req of parse.requests) {
        this.records.push({ seq: this.seq++, req });
        socket.write(answer(req));
      }
      buf = buf.subarray(parse.consumed);
      if (parse.end === 'error') {
        this.garbage.push({ reason: parse.reason ?? '', bytes: buf.toString('latin1', 0, 300) });
        socket.resetAndDestroy();
      } else if (parse.closed) socket.end();
    });
  }
}

function answer(req: StrictRequest): string {
  const body = req.method === 'HEAD' ? '' : req.target;
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Echo: ${req.target}\r\n\r\n${body}`;
}

interface ClientResponse {
  status: number;
  echo: string | null;
}

/** Reads the responses a client got: status, X-Echo; 1xx skipped. Stops at what it can't frame. */
function parseResponses(bytes: Buffer, closed: boolean): ClientResponse[] {
  const out: ClientResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) break;
    const head = bytes.toString('latin1', at, end);
    const status = Number(head.slice(9, 12));
    const echo = /\r\nx-echo: *([^\r]*)/i.exec(head)?.[1] ?? null;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    at = end + 4;
    if (status >= 100 && status < 200) continue;
    if (length !== null) {
      const n = Number(length[1]);
      if (bytes.length - at < n) break;
      at += n;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = bytes.indexOf('\r\n0\r\n\r\n', at - 2, 'latin1');
      if (last < 0) break;
      at = last + 7;
    } else if (!closed) break;
    else at = bytes.length;
    out.push({ status, echo });
  }
  return out;
}

interface Exchange {
  responses: ClientResponse[];
  timedOut: boolean;
}

/** Writes `writes` on a new connection; waits for `expect` responses, then for the close when `waitClose`. */
function exchange(
  port: number,
  writes: Buffer[],
  expect: number,
  waitClose: boolean,
  timeoutMs: number,
  secure: boolean,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port, servername: 'fuzz', rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    let settled = false;
    const settle = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A reset needs the TCP handle, which a TLS socket does not expose.
      if (secure) socket.destroy();
      else socket.resetAndDestroy();
      resolve({ responses: parseResponses(Buffer.concat(chunks), closed), timedOut });
    };
    const timer = setTimeout(() => settle(true), timeoutMs);
    const check = (): void => {
      const got = parseResponses(Buffer.concat(chunks), closed).length;
      if (closed || (got >= expect && !waitClose)) settle(false);
      else if (got >= expect) socket.end();
    };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      check();
    });
    socket.on('close', () => {
      closed = true;
      check();
    });
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      void (async () => {
        for (const w of writes) {
          if (socket.destroyed) return;
          socket.write(w);
          await new Promise((r) => setImmediate(r));
        }
        if (expect === 0) socket.end();
      })();
    });
  });
}

interface CaseRun {
  fuzz: FuzzCase;
  reference: StrictParse;
  client: Exchange;
  victim: Exchange;
}

/** A case's request target (origin-form, or absolute-form as a proxy may pass it on). */
const CASE_TARGET = /\/c([a-z]+)-/;

/** Runs the cases through a fresh proxy on the given engine; returns the findings. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const upstream = new RecordingUpstream();
  await new Promise<void>((r) => upstream.server.listen(0, '127.0.0.1', r));
  const upPort = (upstream.server.address() as net.AddressInfo).port;
  const dir = tempDir();
  const proxy: RunningProxy = await runProxy({
    controlSocket: join(dir, 'proxy.sock'),
    stateFile: join(dir, 'routes.json'),
    log: () => {},
    handleSignals: false,
    upgradable: false,
    closeGraceMs: 500,
    fastPath: options.fastPath,
    headersTimeoutMs: 2000,
  });
  const port = await freePort();
  const control = new ProxyClient({ socketPath: join(dir, 'proxy.sock') });
  await control.ensureService('web', { listen: `127.0.0.1:${port}`, tls: options.tls });
  await control.addBackend('web', { id: 'a', revision: 1, address: `127.0.0.1:${upPort}` });

  const runs: CaseRun[] = [];
  const timeoutMs = options.caseTimeoutMs ?? 2000;
  const iterator = options.cases[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      runs.push(await runCase(port, next.value, timeoutMs, options.tls !== undefined));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 24 }, worker));
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    await proxy.close();
    await new Promise((r) => upstream.server.close(r));
  }
  const findings = judge(runs, upstream);
  return {
    engine: `${options.fastPath ? 'fast' : 'node'}${options.tls === undefined ? '' : '+tls'}`,
    cases: runs.length,
    forwarded: upstream.records.length,
    timeouts: runs.filter((r) => r.client.timedOut).length,
    timedOut: runs
      .filter((r) => r.client.timedOut)
      .slice(0, 5)
      .map((r) => r.fuzz.name),
    findings,
    ms: Math.round(performance.now() - started),
  };
}

async function runCase(
  port: number,
  fuzz: FuzzCase,
  timeoutMs: number,
  secure: boolean,
): Promise<CaseRun> {
  const reference = parseRequests(Buffer.concat(fuzz.writes));
  const expect = reference.requests.length;
  const waitClose = reference.end === 'error' || reference.closed;
  const client = await exchange(port, fuzz.writes, expect, waitClose, timeoutMs, secure);
  const victimBytes = Buffer.from(
    `GET /c${tag(fuzz.id)}-v HTTP/1.1\r\nHost: fuzz\r\nCookie: s=${fuzz.id}\r\n\r\n`,
  );
  const victim = await exchange(port, [victimBytes], 1, false, timeoutMs, secure);
  return { fuzz, reference, client, victim };
}

/** Compares what the upstream read and what the clients got with the strict reading. */
function judge(runs: CaseRun[], upstream: RecordingUpstream): Finding[] {
  const findings: Finding[] = [];
  const byId = new Map(runs.map((r) => [r.fuzz.id, r]));
  const add = (run: CaseRun | undefined, kind: string, detail: string): void => {
    findings.push({
      caseId: run?.fuzz.id ?? -1,
      name: run?.fuzz.name ?? '?',
      kind,
      detail,
      input: run === undefined ? '' : Buffer.concat(run.fuzz.writes).toString('latin1'),
    });
  };
  for (const g of upstream.garbage) {
    const id = /\/c(\d+)-/.exec(g.bytes)?.[1];
    add(
      id === undefined ? undefined : byId.get(Number(id)),
      'upstream-unparseable',
      `${g.reason}: ${JSON.stringify(g.bytes)}`,
    );
  }
  const forwarded = new Map<number, StrictRequest[]>();
  for (const { req } of upstream.records) {
    const m = CASE_TARGET.exec(req.target);
    const run = m === null ? undefined : byId.get(untag(m[1]!));
    if (run === undefined) {
      add(undefined, 'unattributable', `${req.method} ${req.target}`);
      continue;
    }
    if (req.lengthLines > 1) add(run, 'two-content-length-lines', req.target);
    if (req.refuse !== null) add(run, 'forwarded-refusable', `${req.target}: ${req.refuse}`);
    const list = forwarded.get(run.fuzz.id) ?? [];
    list.push(req);
    forwarded.set(run.fuzz.id, list);
  }
  for (const run of runs) {
    const got = forwarded.get(run.fuzz.id) ?? [];
    const victims = got.filter((r) => r.target === `/c${tag(run.fuzz.id)}-v`);
    const own = got.filter((r) => r.target !== `/c${tag(run.fuzz.id)}-v`);
    if (victims.length !== 1)
      add(run, 'victim-count', `victim request read ${victims.length} times`);
    const unmatched = firstUnmatched(own, run.reference.requests);
    if (unmatched !== null) {
      add(
        run,
        'not-in-strict-reading',
        `${unmatched.method} ${unmatched.target} body ${JSON.stringify(unmatched.body.toString('latin1').slice(0, 80))}; strict reading: ${describe(run.reference)}`,
      );
    }
    // Pipelined requests may reach the upstream out of order on different connections, but each
    // client must get its own responses in the order it asked.
    const echoes = run.client.responses.map((r) => r.echo).filter((e) => e !== null);
    const order = run.reference.requests.map((r) => r.target);
    if (!isSubsequence(echoes, order) || echoes.some((e) => !own.some((r) => r.target === e))) {
      add(
        run,
        'client-got-other-response',
        `echoes ${JSON.stringify(echoes)} vs asked ${JSON.stringify(order)}`,
      );
    }
    const v = run.victim.responses[0];
    if (v === undefined || v.echo !== `/c${tag(run.fuzz.id)}-v`) {
      add(
        run,
        'victim-desync',
        v === undefined
          ? `no response${run.victim.timedOut ? ' (timeout)' : ''}`
          : `status ${v.status}, echo ${v.echo}`,
      );
    }
  }
  return findings;
}

/** The first forwarded request that no request of the strict reading accounts for (each once). */
function firstUnmatched(got: StrictRequest[], reference: StrictRequest[]): StrictRequest | null {
  const left = [...reference];
  for (const req of got) {
    const i = left.findIndex((r) => r.refuse === null && same(req, r));
    if (i < 0) return req;
    left.splice(i, 1);
  }
  return null;
}

function isSubsequence(items: string[], of: string[]): boolean {
  let j = 0;
  for (const item of items) {
    while (j < of.length && of[j] !== item) j++;
    if (j === of.length) return false;
    j++;
  }
  return true;
}

function same(a: StrictRequest, b: StrictRequest): boolean {
  return a.method === b.method && a.target === b.target && a.body.equals(b.body);
}

function describe(p: StrictParse): string {
  const reqs = p.requests.map((r) => `${r.method} ${r.target} (${r.body.length} B)`).join(', ');
  return `[${reqs}] then ${p.end}${p.reason === undefined ? '' : ` (${p.reason})`}`;
}
