// Runs every scenario, one after the other, each in its own process (`npm run bench` runs this file).
//   node bench/run.js                    # the full measurement (about an hour on 2 cores)
//   node bench/run.js --quick            # smoke check of every scenario (a few minutes)
//   node bench/run.js --only=fanout,memory
//   node bench/run.js --endpoint=bench        # the minimal stand-in plugin instead of tenant-broadcast
// Options given here are passed on to the scenarios that know them (--reps, --endpoint,
// --server-cpu, --client-cpu, --variants). Each scenario writes bench/results/<scenario>.txt and
// appends its runs to bench/results/<scenario>.jsonl; this script concatenates the summaries of the
// invocation into bench/results/summary.txt.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { helpRequested, list, parseArgs, runMain } from './lib/cli.js'
import { cpuCount, hasTaskset, openFileLimit } from './lib/machine.js'
import { resultsDir } from './lib/report.js'
import { benchDir, checkBuild } from './lib/servers.js'

const SCENARIOS = ['fanout', 'latency', 'memory', 'connect-rate', 'cross-node']
const usage = `
node bench/run.js [--quick] [--only=${SCENARIOS.join(',')}] [--skip=...] [--reps=N] [--variants=...]
  [--endpoint=bench|tenant-broadcast] [--server-cpu=0] [--client-cpu=1]
`
const args = parseArgs(process.argv.slice(2), {
  only: SCENARIOS.join(','),
  skip: '',
  reps: undefined,
  variants: undefined,
  endpoint: undefined,
  serverCpu: undefined,
  clientCpu: undefined
})
helpRequested(args, usage)

function scenarioArgs (name) {
  const out = []
  if (args.quick) out.push('--quick')
  for (const k of ['reps', 'variants', 'endpoint', 'clientCpu']) {
    if (args[k] !== undefined) out.push(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}=${args[k]}`)
  }
  if (args.serverCpu !== undefined) out.push(name === 'cross-node' ? `--server-cpus=${args.serverCpu}` : `--server-cpu=${args.serverCpu}`)
  return out
}

function runScenario (name) {
  const argv = [path.join(benchDir, `${name}.js`), ...scenarioArgs(name)]
  console.log(`\n=== ${name}: node ${path.relative(process.cwd(), argv[0])} ${argv.slice(1).join(' ')}`)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: 'inherit' })
    child.on('exit', (code, signal) => { resolve(code ?? signal) })
  })
}

runMain(async () => {
  const selected = list(args.only).filter((s) => !list(args.skip).includes(s))
  for (const s of selected) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (known: ${SCENARIOS.join(', ')})`)
  checkBuild(['product'], args.endpoint)
  if (!hasTaskset()) console.warn('warning: taskset not found: server and load generator will not be pinned')
  if (cpuCount() < 2) console.warn('warning: fewer than 2 CPUs: server and load generator share a core')
  const load = os.loadavg()[0]
  if (load > 0.5) console.warn(`warning: load average ${load.toFixed(2)}: other processes are running, figures will be noisy (runs show their foreign load)`)
  if (!args.quick && openFileLimit() < 12000) throw new Error(`the open-file limit is ${openFileLimit()}; run \`ulimit -n 20000\` first (memory opens 10k sockets)`)

  const started = Date.now()
  const failed = []
  const summaries = []
  for (const name of selected) {
    const t0 = Date.now()
    const code = await runScenario(name)
    if (code !== 0) failed.push(`${name} (exit ${code})`)
    const file = path.join(resultsDir, `${name}.txt`)
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= t0) summaries.push(fs.readFileSync(file, 'utf8'))
  }
  const text = summaries.join('\n\n')
  fs.mkdirSync(resultsDir, { recursive: true })
  fs.writeFileSync(path.join(resultsDir, 'summary.txt'), text)
  console.log(`\n=== done in ${Math.round((Date.now() - started) / 1000)} s; summaries of this run in ${path.relative(process.cwd(), path.join(resultsDir, 'summary.txt'))}`)
  if (failed.length > 0) throw new Error(`scenarios that did not finish: ${failed.join(', ')}`)
})
