// Opens an HTML report in Debian's Chromium (/usr/bin/chromium, apt-get install chromium; never a
// downloaded browser) through playwright-core, checks what its charts drew, and takes a screenshot.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface ChartCheck {
  chart: string;
  /** Canvas pixels in a saturated colour: the series lines (axes, grid and text are grey). */
  inked: number;
  width: number;
  height: number;
}

export interface PageCheck {
  charts: ChartCheck[];
  /** Charts that said "no samples" instead of drawing. */
  empty: string[];
  /** Requests the page tried to make to anything but its own file (must stay empty). */
  network: string[];
  consoleErrors: string[];
}

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export async function checkReportPage(htmlFile: string, screenshot: string): Promise<PageCheck> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const network: string[] = [];
    const consoleErrors: string[] = [];
    const own = pathToFileURL(htmlFile).href;
    page.on('request', (r) => {
      if (r.url() !== own) network.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(own);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
    const result = await page.evaluate<Pick<PageCheck, 'charts' | 'empty'>>(CHART_PROBE);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { ...result, network, consoleErrors };
  } finally {
    await browser.close();
  }
}

// Runs in the page (a string: this project compiles without the DOM types). For each chart box,
// counts the pixels of its canvas the series lines coloured.
const CHART_PROBE = `(() => {
  const charts = [];
  const empty = [];
  for (const box of document.querySelectorAll('[data-chart]')) {
    const name = box.dataset.chart;
    const canvas = box.querySelector('canvas');
    if (!canvas) { empty.push(name); continue; }
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < img.length; i += 4) {
      const hi = Math.max(img[i], img[i + 1], img[i + 2]);
      const lo = Math.min(img[i], img[i + 1], img[i + 2]);
      if (img[i + 3] > 128 && hi - lo > 60) inked++;
    }
    charts.push({ chart: name, inked, width: canvas.width, height: canvas.height });
  }
  return { charts, empty };
})()`;
