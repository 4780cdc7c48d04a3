// Rasterizes the chart SVGs to PNG in Debian's chromium, driven by playwright-core (a dev dependency already there
// for the inspector's browser tests): the bench draws its charts without a charting or image package.

/** Device pixels per SVG pixel: sharp on high-density screens, and still small files. */
export const SCALE = 2

/**
 * Writes each chart's SVG as a PNG of SCALE times its size, in one browser.
 * @param {{ svg: string, file: string }[]} charts
 */
export async function writePngs (charts) {
  // Loaded here, not at the top: playwright-core takes most of a second of CPU to load, which a run that stops
  // on a usage or input error (or --help) does not need.
  const { launchChromium } = await import('../../scripts/chromium.js')
  const browser = await launchChromium()
  try {
    const page = await browser.newPage({ deviceScaleFactor: SCALE, viewport: { width: 1200, height: 900 } })
    page.setDefaultTimeout(15_000)
    for (const { svg, file } of charts) {
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`)
      await page.locator('svg').screenshot({ path: file, animations: 'disabled' })
    }
  } finally {
    await browser.close()
  }
}
