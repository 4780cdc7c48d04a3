// Start-up time: from running the command to `/health` answering 200, with a current build and the embedded
// defaults, as a new user starts the server. Two commands: `npm start` (npm, the build freshness check, then
// node) and `node dist/src/cli/main.js start` (node alone). Each run starts a fresh process on a free port;
// the variants alternate. Prints median [min..max] and the load average before and after (a loaded machine
// slows every start: compare runs of one invocation only).
//   node bench/start.js            # 5 runs of each
//   node bench/start.js --runs=10
import { spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import { helpRequested, parseArgs, runMain } from './lib/cli.js'
import { freePort, sleep } from './lib/machine.js'
import { fmt, range } from './lib/report.js'
import { repoDir } from './lib/servers.js'

const usage = `
node bench/start.js [--runs=5] [--deadline-ms=60000]
`
const args = parseArgs(process.argv.slice(2), { runs: 5, deadlineMs: 60_000 }, { runs: 2 })
helpRequested(args, usage)

const npm = process.env.npm_execpath?.endsWith('.js') === true ? [process.execPath, process.env.npm_execpath] : ['npm']
const COMMANDS = {
  'npm start': [...npm, 'start', '--silent'],
  'node dist/src/cli/main.js start': [process.execPath, 'dist/src/cli/main.js', 'start']
}

/** Seconds from spawning `argv` to /health answering 200; the process (group) is then stopped. */
async function timeToHealth (argv) {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(argv[0], argv.slice(1), { cwd: repoDir, env: { ...process.env, PORT: String(port), NODE_ENV: '' }, stdio: 'ignore', detached: true })
  const exited = new Promise((resolve) => { child.once('exit', resolve) })
  try {
    for (;;) {
      if (performance.now() - started > args.deadlineMs) throw new Error(`${argv.join(' ')}: /health did not answer within ${args.deadlineMs} ms`)
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)
      if (ok) return (performance.now() - started) / 1000
      await sleep(10)
    }
  } finally {
    process.kill(-child.pid, 'SIGTERM')
    await exited
  }
}

async function main () {
  const built = spawnSync(process.execPath, ['scripts/build-if-stale.js'], { cwd: repoDir, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('the build failed')
  const loadBefore = os.loadavg()
  const times = Object.fromEntries(Object.keys(COMMANDS).map((name) => [name, []]))
  for (let run = 0; run < args.runs; run++) {
    for (const [name, argv] of Object.entries(COMMANDS)) times[name].push(await timeToHealth(argv))
  }
  const loadAfter = os.loadavg()
  console.log(`start to /health answering, current build, embedded defaults, ${args.runs} runs each (median [min..max], s)`)
  for (const [name, values] of Object.entries(times)) console.log(`  ${name.padEnd(34)} ${range(values, 2)}`)
  console.log(`load average before ${loadBefore.map((l) => fmt(l, 2)).join(' ')}, after ${loadAfter.map((l) => fmt(l, 2)).join(' ')} (${os.cpus().length} CPUs); node ${process.version}`)
}

runMain(main)
