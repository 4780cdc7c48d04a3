#!/usr/bin/env node
// Where the bytes of an idle authenticated connection go: heap snapshots of a server at two levels of idle
// clients (5,000 and 10,000 by default, each with its own JWT, as bench/memory.js), diffed and grouped by
// constructor. Memory after two full GCs does not depend on the machine's load, so this runs on a busy
// machine. The servers are bench/lib/servers.js's (product: dist/, `npm run build` first; socketio: bare
// Socket.IO with the same JWT check and rooms). Prints, per variant, the marginal heap bytes and objects per
// connection by group, largest first, and the marginal heapUsed between the two levels (not RSS: writing the
// first snapshot grows the RSS; bench/memory.js measures it).
//
//   node bench/profile/memory-snapshot.js --variants=product,socketio [--levels=5000,10000] [--top=40]
//   node bench/profile/memory-snapshot.js --variants=product --keep   # keeps the .heapsnapshot files (DevTools: Comparison)
//
// Groups: an object's constructor name; `(closure) name` for functions; `(string)`, `(number)`, `(compiled code)`;
// V8's internal arrays as `(array) <what>` (`(object properties)`, `(object elements)`) and its system objects as
// `(system) <name>`. `--by=retainer [--depth=2]`: each group split by the chain of first retainers that holds it.
// `ulimit -n` must allow the higher level plus some (20000 for 10k).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { closeAll, connectClients } from '../lib/clients.js'
import { list, numbers, parseArgs } from '../lib/cli.js'
import { pinSelf, requireOpenFiles, sleep } from '../lib/machine.js'
import { checkBuild, DEFAULT_ENDPOINT, startServer } from '../lib/servers.js'

const args = parseArgs(process.argv.slice(2), {
  variants: 'product,socketio',
  levels: '5000,10000',
  top: 40,
  settle: 2000,
  serverCpu: 'none',
  clientCpu: 'none',
  endpoint: DEFAULT_ENDPOINT,
  keep: false,
  by: 'constructor',
  depth: 1,
  out: ''
})
const variants = list(args.variants)
const [lo, hi] = numbers(args.levels).sort((a, b) => a - b)
if (hi === undefined) throw new Error('--levels needs two levels')
checkBuild(variants, args.endpoint)
requireOpenFiles(hi + 1000)
if (args.clientCpu !== 'none') pinSelf(args.clientCpu)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-heap-'))

/** Group key of a node, as DevTools' summary groups them (closures by name, V8 internals by kind). */
function groupOf (type, name) {
  switch (type) {
    case 'object': return name
    case 'closure': return `(closure) ${name || '(anonymous)'}`
    case 'string': case 'concatenated string': case 'sliced string': return '(string)'
    case 'number': case 'heap number': return '(number)'
    case 'code': return '(compiled code)'
    case 'array': return `(array) ${name}`
    case 'hidden': case 'object shape': return `(system) ${name.replace(/ @\d+$/, '').slice(0, 60)}`
    case 'native': return `(native) ${name.slice(0, 60)}`
    default: return `(${type})`
  }
}

/**
 * Self size and count per group of a snapshot file. `--by=retainer` splits every group by the first object
 * that holds it (its group and the edge's name: `Object <- IncomingMessage.headers`), to see whose it is.
 */
function summarize (file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'))
  const meta = snap.snapshot.meta
  const fields = meta.node_fields
  const width = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  const types = meta.node_types[0]
  const { nodes, strings, edges } = snap
  const nodeGroup = (i) => groupOf(types[nodes[i + iType]], strings[nodes[i + iName]])
  let owner
  if (args.by === 'retainer') {
    // The first strong retainer of every node (by node index), and the edge's name.
    const ef = meta.edge_fields
    const ew = ef.length
    const eType = ef.indexOf('type')
    const eName = ef.indexOf('name_or_index')
    const eTo = ef.indexOf('to_node')
    const edgeTypes = meta.edge_types[0]
    const iEdges = fields.indexOf('edge_count')
    const from = new Int32Array(nodes.length / width).fill(-1)
    const via = new Array(nodes.length / width)
    let e = 0
    for (let i = 0; i < nodes.length; i += width) {
      const end = e + nodes[i + iEdges] * ew
      for (; e < end; e += ew) {
        const t = edgeTypes[edges[e + eType]]
        if (t === 'weak' || t === 'shortcut') continue
        const to = edges[e + eTo] / width
        if (from[to] !== -1) continue
        from[to] = i
        via[to] = t === 'element' || t === 'hidden' ? `[${t}]` : String(strings[edges[e + eName]]).slice(0, 40)
      }
    }
    owner = (i) => {
      let out = ''
      let k = i / width
      for (let d = 0; d < Number(args.depth) && from[k] !== -1; d++) {
        out += ` <- ${nodeGroup(from[k])}.${via[k]}`
        k = from[k] / width
      }
      return out
    }
  }
  const groups = new Map()
  for (let i = 0; i < nodes.length; i += width) {
    const key = owner === undefined ? nodeGroup(i) : nodeGroup(i) + owner(i)
    let g = groups.get(key)
    if (g === undefined) groups.set(key, g = { size: 0, count: 0 })
    g.size += nodes[i + iSize]
    g.count++
  }
  return groups
}

async function runOne (variant) {
  const server = await startServer({ variant, cpu: args.serverCpu, endpoint: args.endpoint, exposeGc: true })
  const conns = []
  const shots = []
  try {
    for (const level of [lo, hi]) {
      const r = await connectClients({ variant, servers: [server], n: level - conns.length, first: conns.length })
      conns.push(...r.conns)
      if (r.failed > 0) throw new Error(`${variant}: ${r.failed} connections failed (${r.errors.slice(0, 2).join('; ')})`)
      await sleep(args.settle)
      const file = path.join(dir, `${variant}-${level}.heapsnapshot`)
      const s = await server.snapshot(file)
      if (s.error) throw new Error(s.error)
      shots.push({ level, file, mem: s.mem })
    }
  } finally {
    await server.stop()
    closeAll(conns)
    await sleep(500)
  }
  const [a, b] = shots
  const ga = summarize(a.file)
  const gb = summarize(b.file)
  const n = hi - lo
  const rows = []
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const x = ga.get(key) ?? { size: 0, count: 0 }
    const y = gb.get(key) ?? { size: 0, count: 0 }
    rows.push({ key, bytes: (y.size - x.size) / n, objects: (y.count - x.count) / n })
  }
  rows.sort((p, q) => q.bytes - p.bytes)
  const total = rows.reduce((s, r) => s + r.bytes, 0)
  if (!args.keep) { fs.rmSync(a.file); fs.rmSync(b.file) }
  return {
    variant,
    levels: [lo, hi],
    snapshotBytesPerConn: total,
    heapUsedPerConn: (b.mem.heapUsed - a.mem.heapUsed) / n,
    rssPerConn: (b.mem.rss - a.mem.rss) / n,
    externalPerConn: (b.mem.external - a.mem.external) / n,
    rows
  }
}

const results = []
for (const v of variants) {
  const r = await runOne(v)
  results.push(r)
  console.log(`\n## ${v}: marginal per connection ${lo} -> ${hi}: snapshot ${r.snapshotBytesPerConn.toFixed(0)} B, heapUsed ${r.heapUsedPerConn.toFixed(0)} B, ` +
    `(rss ${r.rssPerConn.toFixed(0)} B: grown by writing the first snapshot, bench/memory.js measures RSS), external ${r.externalPerConn.toFixed(0)} B`)
  console.log('| group | bytes/conn | objects/conn |\n| --- | --- | --- |')
  for (const row of r.rows.slice(0, Number(args.top))) {
    if (Math.abs(row.bytes) < 1) continue
    console.log(`| ${row.key.replace(/\|/g, '\\|')} | ${row.bytes.toFixed(0)} | ${row.objects.toFixed(2)} |`)
  }
  if (args.out !== '') fs.appendFileSync(args.out, JSON.stringify({ ...r, rows: r.rows.filter((x) => Math.abs(x.bytes) >= 1) }) + '\n')
}
if (args.keep) console.log(`\nsnapshots kept in ${dir}`)
else fs.rmSync(dir, { recursive: true, force: true })
