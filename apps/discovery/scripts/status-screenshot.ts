// Takes the README's screenshot of the status page:
//   npx pnpm@10.34.8 --filter discovery screenshot <status-page-url> <png>   (paths from apps/discovery)
// With a running system (`bin/conv up`) and some requests sent through the proxy, so that the
// proxy's panel has figures. 1400x1000, the laptop screen the page is laid out for.
import { chromium } from 'playwright-core';

const [url = 'http://127.0.0.1:5580/', out = '../../docs/status-page.png'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  // Pools drawn and at least one proxy panel with figures (the page polls once a second).
  await page.waitForSelector('tr[data-health]', { timeout: 20_000 });
  await page.waitForSelector('.proxy [data-figure="requests"]', { timeout: 20_000 });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
