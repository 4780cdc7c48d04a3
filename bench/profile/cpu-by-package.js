#!/usr/bin/env node
// Where a server's main thread spends its time, by package: the self time of a V8 CPU profile (`--cpu-prof`)
// grouped by npm package (node_modules/<name>), the product's own code (dist/src, dist/plugins), Node's internals
// (node:events, node:net, node:internal, ...), V8's entries ((garbage collector), (program)) and native functions by
// name ((native) writev). Only the samples in the last part of the profile (--from, a fraction of its duration)
// count, so that start-up and the warm-up are left out; idle samples are left out too. Each column is one profile,
// in shares of its busy samples, or in µs when --scale gives each profile's busy µs per unit of work (for example the
// main thread's µs per handshake that connect-rate.js printed for a run without the profiler, which doubles them).
//
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-interval=100" \
//     node bench/connect-rate.js --variants=product,socketio --reps=1 --k=10000
//   node bench/profile/cpu-by-package.js /tmp/prof/<product>.cpuprofile /tmp/prof/<socketio>.cpuprofile \
//     --names=product,socketio --scale=440,390 [--from=0.4] [--top=25] [--files]
// --files: the product's own code by file instead of one `product` line.
import fs from 'node:fs'
import { helpRequested, list, numbers, parseArgs, usageError } from '../lib/cli.js'
import { table } from '../lib/report.js'

const usage = `
node bench/profile/cpu-by-package.js <file.cpuprofile>... [--names=a,b] [--scale=<us>,<us>] [--from=0.4] [--top=25] [--files]
`
const args = parseArgs(process.argv.slice(2).filter((a) => a.startsWith('--')), { names: '', scale: '', from: 0.4, top: 25, files: false })
helpRequested(args, usage)
const files = process.argv.slice(2).filter((a) => !a.startsWith('--'))
if (files.length === 0) usageError('give one .cpuprofile file or more')
const names = args.names === '' ? files.map((f, i) => `#${i + 1}`) : list(args.names)
const scales = args.scale === '' ? [] : numbers(args.scale)
if (names.length !== files.length || (scales.length > 0 && scales.length !== files.length) || scales.some((s) => !(s > 0))) {
  usageError('--names and --scale need one value per profile (--scale: positive numbers)')
}

/** The group a profile node's self time belongs to. */
function groupOf (frame) {
  const url = frame.url
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : `(native) ${frame.functionName}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg !== null) return pkg[1]
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const own = /\/(?:dist\/)?((?:src|plugins)\/.*)$/.exec(url)
  if (own !== null) return args.files ? own[1] : 'product'
  return url.replace(/^file:\/\//, '')
}

/** Busy samples by group in the profile's last part: { busy, groups: Map }. */
function readProfile (file) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'))
  const group = new Map(p.nodes.map((n) => [n.id, groupOf(n.callFrame)]))
  const from = p.startTime + (p.endTime - p.startTime) * Number(args.from)
  const groups = new Map()
  let busy = 0
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]
    if (t < from) continue
    const g = group.get(p.samples[i])
    if (g === '(idle)') continue
    busy++
    groups.set(g, (groups.get(g) ?? 0) + 1)
  }
  return { busy, groups }
}

const profiles = files.map(readProfile)
const value = (i, g) => {
  const share = (profiles[i].groups.get(g) ?? 0) / profiles[i].busy
  return scales.length > 0 ? share * scales[i] : share * 100
}
const all = [...new Set(profiles.flatMap((p) => [...p.groups.keys()]))]
all.sort((a, b) => Math.max(...profiles.map((_, i) => value(i, b))) - Math.max(...profiles.map((_, i) => value(i, a))))
const unit = scales.length > 0 ? 'µs' : '%'
const cols = ['group', ...names.map((n) => `${n} (${unit})`), ...(files.length === 2 ? [`${names[0]} - ${names[1]}`] : [])]
const rows = all.slice(0, Number(args.top)).map((g) => {
  const v = profiles.map((_, i) => value(i, g))
  const row = { group: g }
  v.forEach((x, i) => { row[cols[i + 1]] = x.toFixed(1) })
  if (files.length === 2) row[cols[3]] = (v[0] - v[1]).toFixed(1)
  return row
})
console.log(`self time of the busy samples after ${Math.round(Number(args.from) * 100)}% of each profile (${profiles.map((p, i) => `${names[i]}: ${p.busy} samples`).join(', ')})`)
process.stdout.write(table(rows, cols))
