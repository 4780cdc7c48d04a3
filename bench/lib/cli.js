// Command-line options of the bench scripts: `--name=value`, `--flag`; `--quick` swaps in the
// scenario's short smoke-check defaults. Names may be written with dashes or in camelCase.

/**
 * @param {string[]} argv process.argv.slice(2)
 * @param {object} defaults the full-run defaults
 * @param {object} quick overrides applied by --quick (before explicit options)
 */
export function parseArgs (argv, defaults, quick = {}) {
  const given = {}
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a)
    if (m === null) usageError(`unexpected argument ${a} (options look like --name=value)`)
    const key = m[1].replace(/-([a-z])/g, (_, ch) => ch.toUpperCase())
    let v = m[2] === undefined ? true : m[2]
    if (v === 'false') v = false
    else if (typeof v === 'string' && v !== '' && !isNaN(Number(v))) v = Number(v)
    given[key] = v
  }
  const known = new Set([...Object.keys(defaults), 'quick', 'help'])
  const dashed = (k) => '--' + k.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase())
  for (const k of Object.keys(given)) if (!known.has(k)) usageError(`unknown option ${dashed(k)} (known: ${[...known].map(dashed).join(' ')})`)
  return Object.assign({}, defaults, given.quick === true ? quick : {}, given)
}

/** "a,b,c" (or a single number) -> array of strings / numbers. */
export const list = (v) => String(v).split(',').map((s) => s.trim()).filter((s) => s !== '')
export const numbers = (v) => list(v).map(Number)

/** Prints `usage` and exits when --help is given. */
export function helpRequested (args, usage) {
  if (args.help === true) {
    process.stdout.write(usage.trim() + '\n')
    process.exit(0)
  }
}

/** Prints a usage problem and exits 2. */
export function usageError (message) {
  process.stderr.write(`error: ${message}\n`)
  process.exit(2)
}

/** Runs the async main of a script; an error prints (its stack when it is not a plain Error) and exits 1. */
export function runMain (main) {
  main().then(() => { process.exit(0) }, (err) => {
    console.error(err?.constructor === Error ? `error: ${err.message}` : err)
    process.exit(1)
  })
}

/**
 * Runs every variant `reps` times, the order rotated from one repetition to the next (so no variant always runs
 * first or last on a warming machine), printing each run as a JSON line; resolves with the runs, `rep` added.
 */
export async function rotatedRuns (variants, reps, runOnce) {
  const runs = []
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < variants.length; i++) {
      const run = await runOnce(variants[(i + rep) % variants.length])
      runs.push({ rep, ...run })
      console.log(JSON.stringify(run))
    }
  }
  return runs
}
