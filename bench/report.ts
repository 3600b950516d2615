// Turns the benchmark's raw records into the printed tables, the verdicts and the JSON summary.
import type { ProfileSummary } from './cpuprofile.js';
import type { OpenLoopResult } from './openloop.js';
import type { WrkResult } from './wrk.js';

export interface RunRecord {
  round: number;
  path: string;
  wrk: WrkResult;
  /** % of one core: proxy, app, docker-proxy, loadgen (wrk), other and the whole machine. */
  cpu: Record<string, number>;
  /** Other processes took a noticeable share of the CPU even after the retries. */
  noisy: boolean;
}

export interface LatencyRecord {
  level: string;
  round: number;
  path: string;
  result: OpenLoopResult;
  cpu: Record<string, number>;
  noisy: boolean;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  /** p99 of all the runs' latencies together. */
  pooledP99: number;
  /** Per round: this path's p99 minus nginx's p99 in the same round; and their median. */
  p99MinusNginx: { median: number; rounds: number[] };
  achievedRate: number;
  sendLagP50: number;
  sendLagP99: number;
  loadgenCpu: number;
  /** Requests waited for a free connection: the path did not keep up with the rate. */
  overloaded: boolean;
}

export interface Report {
  at: string;
  machine: Record<string, string | number>;
  note: string;
  /** A run is noisy when "other" CPU stayed above this (% of one core). */
  noisyOtherPct: number;
  options: object;
  targets: { throughputVsNginx: number; p99OverNginxMs: number; idleRssMiB: number };
  paths: { key: string; label: string; set: string }[];
  runs: RunRecord[];
  multiRuns: RunRecord[];
  latencyRuns: LatencyRecord[];
  latency: Record<string, { rate: number; of: string; paths: Record<string, LatencySummary> }>;
  /** KiB. */
  idleRss: Record<string, number>;
  /** KiB. */
  peakRss: Record<string, number>;
  /** The profile, the wrk rps of its run, and the proxy's CPU (% of one core) during it. */
  profile: (ProfileSummary & { rps: number; proxyCpuPct: number }) | null;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
export const r2 = (x: number): number => Math.round(x * 100) / 100;
export const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;
const fmt = (x: number | undefined, digits = 2): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '–';

/** A difference with its sign: +1.25, -0.40. */
const signed = (x: number): string =>
  Number.isFinite(x) ? (x > 0 ? '+' : '') + x.toFixed(2) : '–';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)]
    .map((l) => `  ${l}`)
    .join('\n');
}

const CPU_GROUPS = ['proxy', 'app', 'docker-proxy', 'loadgen', 'other'];
const cpuCell = (cpu: Record<string, number>): string =>
  CPU_GROUPS.map((g) => cpu[g] ?? 0).join('/');
/** CPU time of the proxy process(es) per request, µs (1 % of a core = 10 ms per second). */
const usPerRequest = (cpuPct: number | undefined, rps: number): number =>
  cpuPct === undefined || cpuPct === 0 || !(rps > 0) ? NaN : (cpuPct * 10_000) / rps;

export function render(rep: Report): { human: string; json: object } {
  const lines: string[] = [];
  const out = (line = ''): void => {
    lines.push(line);
  };
  const label = (key: string): string => rep.paths.find((p) => p.key === key)?.label ?? key;
  const mainKeys = rep.paths.filter((p) => p.set === 'main').map((p) => p.key);
  const rounds = [...new Set(rep.runs.map((r) => r.round))].sort((a, b) => a - b);
  const run = (key: string, round: number): RunRecord | undefined =>
    rep.runs.find((r) => r.path === key && r.round === round);
  const rps = (key: string, round: number): number => run(key, round)?.wrk.rps ?? NaN;

  // ---------------------------------------------------------------- throughput figures
  const pairs: [string, string, string][] = [
    ...mainKeys
      .filter((k) => k !== 'direct')
      .map((k) => [`${k}/direct`, k, 'direct'] as [string, string, string]),
    ['hotswap/nginx', 'hotswap', 'nginx'],
    ['hotswap/haproxy', 'hotswap', 'haproxy'],
  ];
  const ratiosPerRound = rounds.map((round) =>
    Object.fromEntries(pairs.map(([name, a, b]) => [name, r2(rps(a, round) / rps(b, round))])),
  );
  const medianRatios = Object.fromEntries(
    pairs.map(([name]) => [name, r2(median(ratiosPerRound.map((r) => r[name]!)))]),
  );
  const med = (key: string, pick: (r: RunRecord) => number): number =>
    median(rep.runs.filter((r) => r.path === key).map(pick));
  const throughputMedian = Object.fromEntries(
    mainKeys.map((key) => {
      const cpu = Object.fromEntries(
        CPU_GROUPS.map((g) => [g, Math.round(med(key, (r) => r.cpu[g] ?? NaN))]),
      );
      const m = Math.round(med(key, (r) => r.wrk.rps));
      return [
        key,
        {
          rps: m,
          p50: r2(med(key, (r) => r.wrk.p50)),
          p75: r2(med(key, (r) => r.wrk.p75)),
          p90: r2(med(key, (r) => r.wrk.p90)),
          p99: r2(med(key, (r) => r.wrk.p99)),
          cpu,
          proxyCpuUsPerRequest: Math.round(med(key, (r) => usPerRequest(r.cpu.proxy, r.wrk.rps))),
        },
      ];
    }),
  );

  // ---------------------------------------------------------------- header
  const m = rep.machine;
  out(`hotswap proxy benchmark — ${rep.at}`);
  out(
    `machine: ${m.cores} cores, ${m.memGiB} GiB, kernel ${m.kernel}; node ${m.node}; ` +
      `nginx ${m.nginx}; ${m.haproxy}; ${m.wrk}`,
  );
  out(`note: ${rep.note}`);
  out(
    `CPU columns: % of one core (${Number(m.cores) * 100} = the whole machine) used by the proxy, ` +
      `the app, docker-proxy, the load generator and everything else ("other": kernel network ` +
      `work not charged to a process, other processes). "!" marks a run in which other took ` +
      `> ${rep.noisyOtherPct}% even after two retries. "proxy rq wait %": share of the wall ` +
      `time the proxy's main thread was runnable but waiting for a core (/proc/<pid>/schedstat).`,
  );
  out();

  // ---------------------------------------------------------------- throughput
  const opts = rep.options as { durationSec: number; rounds: number; warmupSec: number };
  out(
    `THROUGHPUT — wrk -t2 -c50 -d${opts.durationSec}s --latency, ${opts.rounds} interleaved ` +
      `round(s) ${mainKeys.join(' → ')}, after a ${opts.warmupSec} s warm-up per path`,
  );
  out(
    table(
      [
        'round',
        'path',
        'rps',
        'vs direct',
        'p50 ms',
        'p75 ms',
        'p90 ms',
        'p99 ms',
        'proxy µs/req',
        'CPU% proxy/app/dp/wrk/other',
      ],
      rounds.flatMap((round) =>
        mainKeys.map((key) => {
          const r = run(key, round)!;
          return [
            `${round}${r.noisy ? ' !' : ''}`,
            label(key),
            Math.round(r.wrk.rps),
            key === 'direct' ? '' : fmt(r.wrk.rps / rps('direct', round)),
            fmt(r.wrk.p50),
            fmt(r.wrk.p75),
            fmt(r.wrk.p90),
            fmt(r.wrk.p99),
            fmt(usPerRequest(r.cpu.proxy, r.wrk.rps), 0),
            cpuCell(r.cpu),
          ];
        }),
      ),
    ),
  );
  out(
    `  ratios per round: ${ratiosPerRound
      .map(
        (r, i) =>
          `#${i + 1} ${Object.entries(r)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ')}`,
      )
      .join(' | ')}`,
  );
  out();
  out(`median over ${rounds.length} round(s):`);
  out(
    table(
      [
        'path',
        'rps',
        'vs direct',
        'p50 ms',
        'p99 ms',
        'proxy µs/req',
        'CPU% proxy/app/dp/wrk/other',
      ],
      mainKeys.map((key) => {
        const t = throughputMedian[key]!;
        return [
          label(key),
          t.rps,
          key === 'direct' ? '' : fmt(medianRatios[`${key}/direct`]),
          fmt(t.p50),
          fmt(t.p99),
          fmt(t.proxyCpuUsPerRequest, 0),
          cpuCell(t.cpu),
        ];
      }),
    ),
  );
  out(
    `  median ratios: ${Object.entries(medianRatios)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  );

  // ---------------------------------------------------------------- multi-worker
  if (rep.multiRuns.length > 0) {
    out();
    out(
      'MULTI-WORKER ROUND (context; the targets compare 1 nginx worker with the 1-process ' +
        'hotswap proxy)',
    );
    const d = rep.multiRuns.find((r) => r.path === 'direct')?.wrk.rps ?? NaN;
    const h = rep.multiRuns.find((r) => r.path === 'hotswap')?.wrk.rps ?? NaN;
    out(
      table(
        [
          'path',
          'rps',
          'vs direct',
          'hotswap/this',
          'p50 ms',
          'p99 ms',
          'proxy µs/req',
          'CPU% proxy/app/dp/wrk/other',
        ],
        rep.multiRuns.map((r) => [
          `${label(r.path)}${r.noisy ? ' !' : ''}`,
          Math.round(r.wrk.rps),
          r.path === 'direct' ? '' : fmt(r.wrk.rps / d),
          r.path === 'hotswap' || r.path === 'direct' ? '' : fmt(h / r.wrk.rps),
          fmt(r.wrk.p50),
          fmt(r.wrk.p99),
          fmt(usPerRequest(r.cpu.proxy, r.wrk.rps), 0),
          cpuCell(r.cpu),
        ]),
      ),
    );
  }

  // ---------------------------------------------------------------- fixed rates
  const lopts = rep.options as { latencyRounds: number; latencyDurationSec: number };
  const added: Record<string, Record<string, { p50: number; p99: number }>> = {};
  for (const [levelKey, level] of Object.entries(rep.latency)) {
    out();
    out(
      `FIXED RATE ${level.rate} req/s = ½ of ${level.of} median max — open loop, keep-alive ` +
        `(≤ 64 connections), ${lopts.latencyRounds} round(s) × ${lopts.latencyDurationSec} s, ` +
        `first second not counted; latency from the scheduled send time`,
    );
    out(
      table(
        [
          'round',
          'path',
          'done rps',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'p99.9 ms',
          'max ms',
          'errors',
          'send lag p50/p99 ms',
          'gen CPU%',
          'CPU% proxy/app/dp/gen/other',
          'proxy rq wait %',
        ],
        rep.latencyRuns
          .filter((r) => r.level === levelKey)
          .map((r) => [
            `${r.round}${r.noisy ? ' !' : ''}`,
            label(r.path),
            r.result.achievedRate,
            fmt(r.result.latency.p50),
            fmt(r.result.latency.p90),
            fmt(r.result.latency.p99),
            fmt(r.result.latency.p999),
            fmt(r.result.latency.max),
            r.result.errors + r.result.non2xx,
            `${fmt(r.result.sendLag.p50)}/${fmt(r.result.sendLag.p99)}`,
            r.result.cpuPercent,
            cpuCell(r.cpu),
            r.path === 'direct' ? '' : (r.cpu.proxyRunQueueWait ?? 0),
          ]),
      ),
    );
    const direct = level.paths.direct;
    added[levelKey] = {};
    out(
      `  median over rounds; pooled = p99 of all rounds' requests together; vs nginx = median ` +
        `of the per-round differences (each round's path p99 minus nginx's p99 in that round):`,
    );
    out(
      table(
        [
          'path',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'pooled p99 ms',
          'p99 vs nginx ms',
          'added p50 ms',
          'added p99 ms',
          'kept up?',
        ],
        Object.entries(level.paths).map(([key, s]) => {
          const a = {
            p50: r2(s.p50 - (direct?.p50 ?? NaN)),
            p99: r2(s.p99 - (direct?.p99 ?? NaN)),
          };
          if (key !== 'direct') added[levelKey]![key] = a;
          return [
            label(key),
            fmt(s.p50),
            fmt(s.p90),
            fmt(s.p99),
            fmt(s.pooledP99),
            key === 'nginx' ? '' : signed(s.p99MinusNginx.median),
            key === 'direct' ? '(floor)' : fmt(a.p50),
            key === 'direct' ? '(floor)' : fmt(a.p99),
            s.overloaded ? `NO (send lag p50 ${fmt(s.sendLagP50)} ms)` : 'yes',
          ];
        }),
      ),
    );
    const hs = level.paths.hotswap;
    if (hs !== undefined && hs.p99MinusNginx.rounds.length > 0) {
      out(
        `  hotswap p99 minus nginx p99, round by round (ms): ` +
          hs.p99MinusNginx.rounds.map(signed).join(' '),
      );
    }
  }
  const firstLevel = Object.values(rep.latency)[0];
  if (firstLevel?.paths.direct !== undefined) {
    const d = firstLevel.paths.direct;
    out(
      `  generator overhead: the direct path is the floor (generator + docker-proxy + app): ` +
        `p50 ${fmt(d.p50)} ms at ${firstLevel.rate} req/s, its send lag p50/p99 ` +
        `${fmt(d.sendLagP50)}/${fmt(d.sendLagP99)} ms, ~${d.loadgenCpu}% of one core`,
    );
  }

  // ---------------------------------------------------------------- RSS
  out();
  out('RSS (VmRSS; idle = after setup, before any load; peak = sampled every 200 ms under load)');
  const rss = Object.fromEntries(
    Object.keys(rep.idleRss).map((key) => [
      key,
      { idleMiB: mib(rep.idleRss[key]!), peakMiB: mib(rep.peakRss[key] ?? 0) },
    ]),
  );
  out(
    table(
      ['process', 'idle MiB', 'peak MiB'],
      Object.entries(rss).map(([key, v]) => [
        `${label(key)}${key.startsWith('nginx') ? ', worker(s)' : ''}`,
        fmt(v.idleMiB, 1),
        fmt(v.peakMiB, 1),
      ]),
    ),
  );

  // ---------------------------------------------------------------- profile
  const prof = rep.profile;
  if (prof !== null) {
    out();
    out(
      `PROFILE — hotswap proxy under node --cpu-prof, one wrk -t2 -c50 -d${opts.durationSec}s ` +
        `run (${prof.rps} rps with the profiler on); ${prof.samples} samples, ${prof.busyMs} ms ` +
        `busy of ${prof.totalMs} ms (busy % leaves (idle) out)`,
    );
    out(
      `  the process was on a CPU ${prof.proxyCpuPct}% of the run's wall time; the sampler counts ` +
        `wall time, so time it sat preempted (on this 2-core box, typically right after a write ` +
        `woke its peer) is charged to the frame it was in`,
    );
    out('top 15 functions by self time:');
    out(
      table(
        ['self ms', 'busy %', 'function', 'where', 'category'],
        prof.topSelf.map((f) => [
          fmt(f.ms, 1),
          f.category === 'idle' ? `(${fmt(f.pct, 1)} of all)` : fmt(f.busyPct, 1),
          f.name,
          f.location,
          f.category,
        ]),
      ),
    );
    out('self time by category:');
    out(
      table(
        ['category', 'ms', 'busy %'],
        prof.categories.map((c) => [c.category, c.ms, fmt(c.busyPct, 1)]),
      ),
    );
    out('top functions by inclusive time (callees included; event-loop plumbing left out):');
    out(
      table(
        ['incl ms', 'busy %', 'function', 'where'],
        prof.topInclusive.map((f) => [fmt(f.ms, 1), fmt(f.busyPct, 1), f.name, f.location]),
      ),
    );
  }

  // ---------------------------------------------------------------- verdicts
  const t = rep.targets;
  const verdicts: { pass: boolean; text: string }[] = [];
  const ratio = medianRatios['hotswap/nginx'];
  verdicts.push({
    pass: (ratio ?? NaN) >= t.throughputVsNginx,
    text: `throughput ≥ ${t.throughputVsNginx}× nginx (1 worker): ${fmt(ratio)}`,
  });
  const target = rep.latency['half-nginx'];
  if (target !== undefined) {
    const h = target.paths.hotswap;
    const n = target.paths.nginx;
    const diff = h?.p99MinusNginx;
    verdicts.push({
      pass: (diff?.median ?? NaN) <= t.p99OverNginxMs,
      text:
        `p99 at ${target.rate} req/s ≤ nginx p99 + ${t.p99OverNginxMs} ms: hotswap minus nginx ` +
        `${signed(diff?.median ?? NaN)} ms (median of ${diff?.rounds.length ?? 0} paired rounds; ` +
        `medians ${fmt(h?.p99)} vs ${fmt(n?.p99)} ms, pooled ${fmt(h?.pooledP99)} vs ` +
        `${fmt(n?.pooledP99)} ms)` +
        (h?.overloaded ? ` (hotswap did not keep up with ${target.rate} req/s)` : ''),
    });
  }
  const idle = rss.hotswap?.idleMiB;
  verdicts.push({
    pass: (idle ?? NaN) < t.idleRssMiB,
    text: `proxy RSS idle < ${t.idleRssMiB} MiB: ${fmt(idle, 1)} MiB (peak ${fmt(rss.hotswap?.peakMiB, 1)} MiB)`,
  });
  out();
  const context = rep.latency['half-hotswap'];
  if (context !== undefined) {
    const h = context.paths.hotswap;
    const n = context.paths.nginx;
    out(
      `context (no target): at ${context.rate} req/s (½ of hotswap's max) p99 hotswap minus ` +
        `nginx ${signed(h?.p99MinusNginx.median ?? NaN)} ms (median of paired rounds; medians ` +
        `${fmt(h?.p99)} vs ${fmt(n?.p99)} ms)`,
    );
  }
  const allRuns = [...rep.runs, ...rep.multiRuns, ...rep.latencyRuns];
  const noisyRuns = allRuns.filter((r) => r.noisy).length;
  if (noisyRuns > 0) {
    out(
      `WARNING: ${noisyRuns} of ${allRuns.length} runs were noisy (other processes busy, marked "!"): ` +
        `rerun on a quiet machine before trusting the figures`,
    );
  }
  for (const v of verdicts) out(`${v.pass ? 'PASS' : 'FAIL'} ${v.text}`);
  out();

  const json = {
    bench: 'proxy',
    at: rep.at,
    machine: rep.machine,
    note: rep.note,
    options: rep.options,
    targets: rep.targets,
    throughput: {
      rounds: rep.runs.map((r) => ({
        round: r.round,
        path: r.path,
        ...r.wrk,
        cpu: r.cpu,
        noisy: r.noisy,
      })),
      median: throughputMedian,
      ratiosPerRound,
      medianRatios,
    },
    multiWorker: rep.multiRuns.map((r) => ({
      path: r.path,
      ...r.wrk,
      cpu: r.cpu,
      noisy: r.noisy,
      proxyCpuUsPerRequest: Math.round(usPerRequest(r.cpu.proxy, r.wrk.rps)),
    })),
    fixedRate: {
      levels: rep.latency,
      addedMs: added,
      runs: rep.latencyRuns.map((r) => ({
        level: r.level,
        round: r.round,
        path: r.path,
        ...r.result,
        cpu: r.cpu,
        noisy: r.noisy,
      })),
    },
    rss,
    profile: prof,
    noisyRuns,
    verdicts,
  };
  return { human: `${lines.join('\n')}\n`, json };
}
