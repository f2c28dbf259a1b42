// @ts-check
'use strict';
/**
 * Draws bench/scale.js results (its --json output) as a bar chart: each figure as a share of its
 * target (or baseline), so "under 1.0" reads "meets it". Writes an SVG and, through headless
 * Chromium, a PNG of it.
 *
 *   node bench/scale-chart.js results.json docs/images/scale-benchmark
 */
const fs = require('node:fs');

const [input, outBase] = process.argv.slice(2);
if (!input || !outBase) {
  console.error('usage: node bench/scale-chart.js results.json out-basename');
  process.exit(2);
}
const r = JSON.parse(fs.readFileSync(input, 'utf8'));

/** [label, value / limit, detail, informational: a bound the service does not set, drawn grey] */
const bars = [
  ['Step latency vs bare JSON Patch (limit 1.3x)', r.step.engineMedianMs / r.step.bareMedianMs / 1.3, `${r.step.engineMedianMs.toFixed(1)} ms vs ${r.step.bareMedianMs.toFixed(1)} ms`],
  ['CPU per poll vs bare express (limit 1.2x)', r.cpu.serviceUsPerPoll / r.cpu.bareUsPerPoll / 1.2, `${r.cpu.serviceUsPerPoll.toFixed(0)} µs vs ${r.cpu.bareUsPerPoll.toFixed(0)} µs`],
  [`${r.orca.shifts} shifts: whole run (limit 2x ideal)`, r.orca.wholeRunMs / r.orca.idealMs / 2, `${(r.orca.wholeRunMs / 1000).toFixed(1)} s vs ideal ${(r.orca.idealMs / 1000).toFixed(1)} s`],
  [`${r.orca.shifts} shifts: floor set by API server + Orca CPU`, r.orca.cpuFloorMs / r.orca.idealMs / 2, `${(r.orca.cpuFloorMs / 1000).toFixed(1)} s on ${r.cores} cores before any service work`, true],
  [`${r.orca.shifts} shifts: peak RSS (limit 200 MB)`, r.orca.peakRssMb / 200, `${r.orca.peakRssMb.toFixed(0)} MB`],
  [`${r.orca.shifts} shifts: event-loop p99 (limit 100 ms)`, r.orca.eventLoopP99Ms / 100, `${r.orca.eventLoopP99Ms.toFixed(0)} ms`],
  [`${r.hold.shifts} held shifts: peak RSS (limit 300 MB)`, r.hold.peakRssMb / 300, `${r.hold.peakRssMb.toFixed(0)} MB`],
];

const width = 1040;
const rowHeight = 44;
const left = 360;
const barMax = 380;
const height = 70 + bars.length * rowHeight + 30;
const scale = (share) => Math.min(share, 1.5) / 1.5 * barMax;
const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const rows = bars.map(([label, share, detail, informational], i) => {
  const y = 60 + i * rowHeight;
  const color = informational ? '#9e9e9e' : share <= 1 ? '#2e7d32' : '#c62828';
  return `<text x="${left - 10}" y="${y + 20}" text-anchor="end" font-size="14">${escape(label)}</text>
  <rect x="${left}" y="${y + 6}" width="${scale(share).toFixed(1)}" height="22" fill="${color}"/>
  <text x="${left + scale(share) + 6}" y="${y + 22}" font-size="13">${escape(detail)} (${(share * 100).toFixed(0)}% of limit)</text>`;
}).join('\n  ');
const limitX = left + scale(1);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="20" y="30" font-size="18" font-weight="bold">One replica, real kube-apiserver ${escape(r.apiserver)}, ${r.cores} shared cores: share of each limit</text>
  ${rows}
  <line x1="${limitX}" y1="50" x2="${limitX}" y2="${height - 25}" stroke="#333" stroke-dasharray="4 3"/>
  <text x="${limitX}" y="${height - 8}" text-anchor="middle" font-size="12">limit</text>
</svg>
`;
fs.writeFileSync(`${outBase}.svg`, svg);

(async () => {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: `${outBase}.png`, clip: { x: 0, y: 0, width, height } });
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
