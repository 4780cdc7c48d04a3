// Debian's chromium driven by playwright-core: one launch for the inspector's browser tests, its screenshot
// script and the bench's charts. Headless, no sandbox (root in containers), nothing that reaches the network or
// changes between runs.
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Launches it, or fails with what to install when it is missing. */
export async function launchChromium () {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`)
  return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 })
}
