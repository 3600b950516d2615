// The HTML impact report in a real browser (Debian's Chromium): a synthesized 2-minute rollout,
// rendered as `hotswap report --html` does, must draw every chart with data and load nothing
// from the network. The screenshot is kept as the test's artifact; its path is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReport, renderHtml } from '../../src/report/index.js';
import { synthesizeRollout } from '../../src/report/synthetic.js';
import { Store } from '../../src/store/index.js';
import { checkReportPage, haveChromium } from '../helpers/browser.js';

test('the HTML report draws every chart with data in Chromium, offline', async (t) => {
  if (!haveChromium()) return t.skip('no /usr/bin/chromium (apt-get install chromium)');
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-report-html-'));
  const store = Store.open(join(dir, 'hotswap.db'));
  const id = synthesizeRollout(store, {
    service: 'web',
    seconds: 120,
    ratePerSec: 100,
    instances: 4,
  });
  const html = join(dir, 'report.html');
  writeFileSync(html, renderHtml(buildReport(store, 'web', id)));
  store.close();
  const shot = join(dir, 'report.png');
  const page = await checkReportPage(html, shot);
  console.log(`report screenshot: ${shot}`);
  assert.deepEqual(page.network, [], 'the page must load nothing');
  assert.deepEqual(page.consoleErrors, []);
  assert.deepEqual(page.empty, []);
  assert.equal(page.charts.length, 8);
  for (const c of page.charts) assert.ok(c.inked > 2000, `${c.chart} drew only ${c.inked} pixels`);
});
