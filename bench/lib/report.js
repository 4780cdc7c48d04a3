// Results: every run is appended as a JSON line to bench/results/<scenario>.jsonl (with the id of the
// invocation), and each script writes its final table to bench/results/<scenario>.txt (the latest run)
// as well as to stdout. Summaries are median [min..max] over the VALID runs; ratios are computed within
// each repetition (same rep, both runs valid), then summarised.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { benchDir, repoDir } from './servers.js'

export const resultsDir = path.join(benchDir, 'results')

export function summarize (values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  const mid = v.length >> 1
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
  return { median, min: v[0], max: v[v.length - 1], n: v.length }
}

export function fmt (n, d = 0) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '-'
  return n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
}

/** "median [min..max]"; "x" alone for one value; "-" for none. */
export function range (values, d = 0) {
  const s = summarize(values)
  if (s.n === 0) return '-'
  if (s.n === 1) return fmt(s.median, d)
  return `${fmt(s.median, d)} [${fmt(s.min, d)}..${fmt(s.max, d)}]`
}

/**
 * Ratios `key(num) / key(den)` of runs of the same repetition and group, both valid.
 * runs: [{ variant, rep, valid, ... }]; sameGroup(a, b) tells runs of one configuration apart.
 */
export function ratios (runs, key, num, den, sameGroup = () => true) {
  const value = (r) => (typeof key === 'function' ? key(r) : r[key])
  const out = []
  for (const a of runs) {
    if (a.variant !== num || !a.valid) continue
    const b = runs.find((r) => r.variant === den && r.rep === a.rep && r.valid && sameGroup(a, r))
    if (b === undefined) continue
    const va = value(a)
    const vb = value(b)
    if (Number.isFinite(va) && Number.isFinite(vb) && vb !== 0) out.push(va / vb)
  }
  return out
}

/** Aligned text table. */
export function table (rows, cols) {
  if (rows.length === 0) return '(no rows)\n'
  cols = cols ?? Object.keys(rows[0])
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)))
  const line = (cells) => cells.map((x, i) => String(x ?? '').padEnd(w[i])).join(' | ').trimEnd()
  return [line(cols), w.map((x) => '-'.repeat(x)).join('-|-'), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n') + '\n'
}

/** Markdown table (for README figures). */
export function markdownTable (rows, cols) {
  if (rows.length === 0) return ''
  cols = cols ?? Object.keys(rows[0])
  const esc = (s) => String(s ?? '').replace(/\|/g, '\\|')
  return [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => esc(r[c])).join(' | ')} |`)].join('\n') + '\n'
}

function gitCommit () {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

/** One invocation of a scenario script: its id, options, machine; appends runs and writes the summary. */
export class Recorder {
  constructor (scenario, options) {
    this.scenario = scenario
    this.options = options
    this.runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`
    this.runs = []
    this.header = [
      `# ${scenario} — ${new Date().toISOString()}`,
      `command: node bench/${path.basename(process.argv[1])} ${process.argv.slice(2).join(' ')}`.trimEnd(),
      `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, commit ${gitCommit()}, load avg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      `options: ${JSON.stringify(options)}`
    ].join('\n')
    fs.mkdirSync(resultsDir, { recursive: true })
  }

  /** Records one run (a variant in one repetition), printing a one-line account. */
  add (run, line) {
    const rec = { scenario: this.scenario, runId: this.runId, at: new Date().toISOString(), ...run }
    this.runs.push(rec)
    fs.appendFileSync(path.join(resultsDir, `${this.scenario}.jsonl`), JSON.stringify(rec) + '\n')
    const flags = []
    if (!rec.valid) flags.push(`INVALID: ${rec.invalid.join('; ')}`)
    if (rec.warnings?.length) flags.push(`warning: ${rec.warnings.join('; ')}`)
    console.log(line + (flags.length ? `\n      ${flags.join(' | ')}` : ''))
    return rec
  }

  /** Prints and saves the final summary (bench/results/<scenario>.txt). */
  finish (body) {
    const invalid = this.runs.filter((r) => !r.valid)
    let text = `${this.header}\n\n${body.trimEnd()}\n`
    if (invalid.length > 0) {
      text += `\n${invalid.length} of ${this.runs.length} runs INVALID (left out of the figures):\n`
      for (const r of invalid) text += `  rep ${r.rep} ${r.variant}${r.label ? ' ' + r.label : ''}: ${r.invalid.join('; ')}\n`
    } else {
      text += `\nall ${this.runs.length} runs valid\n`
    }
    const warned = this.runs.filter((r) => r.warnings?.length)
    if (warned.length > 0) {
      text += `${warned.length} runs with warnings:\n`
      for (const r of warned) text += `  rep ${r.rep} ${r.variant}${r.label ? ' ' + r.label : ''}: ${r.warnings.join('; ')}\n`
    }
    const file = path.join(resultsDir, `${this.scenario}.txt`)
    fs.writeFileSync(file, text)
    console.log('\n' + text)
    console.log(`runs appended to ${path.relative(process.cwd(), path.join(resultsDir, `${this.scenario}.jsonl`))} (runId ${this.runId}); summary in ${path.relative(process.cwd(), file)}`)
  }
}

/** Variants in a different order in each repetition (rotation), so no variant always runs first. */
export function rotate (variants, rep) {
  const k = (rep - 1) % variants.length
  return [...variants.slice(k), ...variants.slice(0, k)]
}

/** "- what: median [min..max] -> PASS|FAIL", judged on the median of the per-repetition ratios. */
export function targetLine (what, values, pass) {
  const s = summarize(values)
  if (s.n === 0) return `- ${what}: no valid pair of runs`
  return `- ${what}: ${range(values, 2)} -> ${pass(s.median) ? 'PASS' : 'FAIL'}`
}
