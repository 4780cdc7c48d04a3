// Debian's chromium driven by playwright-core, for the inspector's browser tests and its screenshot.
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export async function launchChromium (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`)
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 })
}

/** A browser context signed in to the inspector with `key` (HTTP Basic, as a person would in the browser's prompt). */
export async function signedIn (browser: Browser, key: string): Promise<BrowserContext> {
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: key }, viewport: { width: 1400, height: 1000 } })
  context.setDefaultTimeout(15_000)
  return context
}
