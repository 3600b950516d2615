// The impact report as one self-contained HTML page: uPlot (read from node_modules and inlined),
// the report's data as JSON, tables and charts. It loads nothing from the network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ImpactReport } from './build.js';
import { formatMs, summaryLines } from './text.js';
import { watchLine } from './watch.js';

export interface UplotAssets {
  js: string;
  css: string;
}

let cached: UplotAssets | null = null;

/** uPlot's browser build and stylesheet, from the installed `uplot` package. */
export function uplotAssets(): UplotAssets {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return cached;
}

/** The charts the page draws, in order: key into report.charts, title, unit, stepped. */
const CHARTS: Array<[keyof ImpactReport['charts'], string, string, boolean]> = [
  ['weightPct', 'Traffic weight per revision', '%', true],
  ['requestsPerSec', 'Requests per second per revision', 'req/s', false],
  ['errorRatePct', 'Error rate per revision', '%', false],
  ['p50', 'Latency p50 per revision', 'ms', false],
  ['p95', 'Latency p95 per revision', 'ms', false],
  ['p99', 'Latency p99 per revision', 'ms', false],
  ['cpuPct', 'CPU per instance', '% of a core', false],
  ['memoryMb', 'Memory per instance', 'MiB', false],
];

export function renderHtml(report: ImpactReport, assets: UplotAssets = uplotAssets()): string {
  const r = report.rollout;
  const title = `hotswap report: ${r.service} rollout #${r.id}`;
  const charts = CHARTS.map(([key, name, unit, stepped]) => ({ key, name, unit, stepped }));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${assets.css}
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.chart{margin:12px 0 24px}
pre{background:#f7f7f7;padding:8px}.fail{color:#b00}.pass{color:#070}
</style></head><body>
<h1>${esc(title)}</h1>
<pre>${esc(summaryLines(report).join('\n'))}</pre>
<h2>Per revision, before, during and after</h2>
${phaseTable(report)}
<h2>CPU and memory per instance</h2>
${instanceTable(report)}
<h2>Charts</h2>
<div id="charts"></div>
<h2>Verdicts</h2>
${verdictTable(report)}
${watchSection(report)}
<h2>Timeline</h2>
${timelineTable(report)}
<script>${assets.js}</script>
<script id="report-data" type="application/json">${jsonForScript({ charts: report.charts, list: charts, marks: report.marks })}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}

// Runs in the page: one uPlot per chart that has data; a chart without data says so.
const CLIENT_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var root = document.getElementById('charts');
  // One time range for every chart, so they line up one under the other.
  var lo = 0, hi = 1;
  data.list.forEach(function (c) {
    var t = data.charts[c.key].t;
    if (t.length) { lo = Math.min(lo, t[0]); hi = Math.max(hi, t[t.length - 1]); }
  });
  // Dashed lines at the rollout's start, its rollback and its end, with their names.
  function drawMarks(u) {
    var ctx = u.ctx;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.strokeStyle = '#555';
    ctx.fillStyle = '#555';
    ctx.font = '11px sans-serif';
    data.marks.forEach(function (m) {
      var x = Math.round(u.valToPos(m.t, 'x', true));
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x + 3, u.bbox.top + 12);
    });
    ctx.restore();
  }
  data.list.forEach(function (c) {
    var s = data.charts[c.key];
    var names = Object.keys(s.lines);
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-chart', c.key);
    root.appendChild(box);
    if (s.t.length === 0 || names.length === 0) {
      box.textContent = c.name + ': no samples';
      return;
    }
    var series = [{ label: 's' }].concat(names.map(function (n, i) {
      var line = { label: n, stroke: colors[i % colors.length], width: 2, spanGaps: false };
      if (c.stepped) line.paths = uPlot.paths.stepped({ align: 1 });
      return line;
    }));
    new uPlot({
      title: c.name + ' (' + c.unit + ')',
      width: 960, height: 240,
      scales: { x: { time: false, range: [lo, hi] } },
      axes: [{ label: 'seconds since the rollout started' }, { label: c.unit }],
      series: series,
      hooks: { draw: [drawMarks] }
    }, [s.t].concat(names.map(function (n) { return s.lines[n]; })), box);
  });
  document.body.setAttribute('data-rendered', 'true');
})();
`;

function phaseTable(report: ImpactReport): string {
  if (report.phases.length === 0) return '<p>No traffic was sampled.</p>';
  const rows = report.phases.map(
    (p) =>
      `<tr><td class="l">${p.phase}</td><td class="l">r${p.revision}</td><td>${formatMs(p.spanMs)}</td>` +
      `<td>${p.requests}</td><td>${p.failed}</td><td>${(p.errorRate * 100).toFixed(3)}%</td>` +
      `<td>${fmt(p.p50)}</td><td>${fmt(p.p95)}</td><td>${fmt(p.p99)}</td></tr>`,
  );
  return `<table><tr><th class="l">window</th><th class="l">revision</th><th>length</th><th>requests</th><th>failed</th><th>error rate</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>${rows.join('')}</table>`;
}

function instanceTable(report: ImpactReport): string {
  if (report.instances.length === 0) return '<p>No Docker stats were sampled.</p>';
  const rows = report.instances.map(
    (i) =>
      `<tr><td class="l">${esc(i.instance.slice(0, 12))}</td><td class="l">r${i.revision}</td><td>${i.samples}</td>` +
      `<td>${fmt(i.cpuMeanPct)}</td><td>${fmt(i.cpuMaxPct)}</td><td>${fmt(i.memoryMaxMb)}</td></tr>`,
  );
  return `<table><tr><th class="l">instance</th><th class="l">revision</th><th>samples</th><th>CPU mean % of a core</th><th>CPU max %</th><th>memory max MiB</th></tr>${rows.join('')}</table>`;
}

function verdictTable(report: ImpactReport): string {
  if (report.verdicts.length === 0) return '<p>No analysis ran.</p>';
  const rows = report.verdicts.map(
    (v) =>
      `<tr><td>${formatMs(v.tMs)}</td><td class="l ${v.result === 'fail' ? 'fail' : 'pass'}">${esc(v.result)}</td>` +
      `<td class="l">${esc(v.reasons.join('; '))}</td><td class="l"><code>${esc(JSON.stringify(v.metrics))}</code></td></tr>`,
  );
  return `<table><tr><th>at</th><th class="l">result</th><th class="l">reasons</th><th class="l">numbers</th></tr>${rows.join('')}</table>`;
}

function watchSection(report: ImpactReport): string {
  const w = report.watch;
  if (!w) return '';
  return `<h2>Watch after promotion</h2>\n<p>${esc(watchLine(w, formatMs))}</p>\n${verdictTable({ ...report, verdicts: w.verdicts })}`;
}

function timelineTable(report: ImpactReport): string {
  const rows = report.timeline.map(
    (e) =>
      `<tr><td>${formatMs(e.tMs)}</td><td class="l">${esc(e.event)}</td><td class="l">${esc(e.text)}</td></tr>`,
  );
  return `<table><tr><th>at</th><th class="l">event</th><th class="l">detail</th></tr>${rows.join('')}</table>`;
}

function fmt(n: number | null): string {
  return n === null ? '-' : n.toFixed(2);
}

function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** JSON inside a <script> element: no "</script>" or "<!--" can end it early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
