// Draws the curve (bench/curve.js's results) as PNG charts for bench/README.md and rewrites the README's generated
// block (between <!-- curve-charts:start --> and <!-- curve-charts:end -->) with their links and the figures as a
// table. The charts are SVG drawn here (lib/chart-svg.js), rasterized in Debian's chromium (lib/chart-png.js): no
// charting or image dependency. The same JSON gives the same files: nothing here reads the clock.
//   node bench/charts.js                      # bench/results/curve.json -> bench/charts/*.png + bench/README.md
//   node bench/charts.js --in=other.json --out=/tmp/charts --no-readme
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { helpRequested, parseArgs, runMain } from './lib/cli.js'
import { writePngs } from './lib/chart-png.js'
import { curveBlock, replaceBlock } from './lib/chart-readme.js'
import { barPanels, lineChart } from './lib/chart-svg.js'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const repoDir = path.resolve(benchDir, '..')

const usage = `
node bench/charts.js [--in=bench/results/curve.json] [--out=bench/charts] [--readme=bench/README.md] [--no-readme]
  Writes cpu.png, latency.png, rss.png, heap.png (and cluster.png when the results have a cluster section) into
  --out, and the charts' links and a table of the figures between the curve-charts markers of --readme.
`
const args = parseArgs(process.argv.slice(2), { in: '', out: '', readme: '', noReadme: false })
helpRequested(args, usage)

/** Relative paths in options are from the current directory; the defaults are in this checkout. */
const file = (given, fallback) => (given === '' ? path.join(repoDir, fallback) : path.resolve(String(given)))

/** The variants in legend and table order, with their names and looks in the charts. */
const VARIANTS = [
  { variant: 'product', label: 'product', color: '#0072B2', marker: 'circle' },
  { variant: 'socketio', label: 'bare Socket.IO', color: '#D55E00', marker: 'square' },
  { variant: 'ws-frame', label: 'raw frame', color: '#009E73', marker: 'triangle' }
]
// Any other variant a run included (e.g. product-nofast) still gets a line, in these.
const EXTRA = [{ color: '#CC79A7', marker: 'diamond' }, { color: '#777777', marker: 'circle' }, { color: '#E69F00', marker: 'square' }]

function readCurve (inFile) {
  let raw
  try {
    raw = fs.readFileSync(inFile, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error(`${inFile} not found: run node bench/curve.js first, or pass --in=<results JSON>`)
    throw err
  }
  let curve
  try {
    curve = JSON.parse(raw)
  } catch (err) {
    throw new Error(`${inFile} is not JSON (${err.message})`)
  }
  if (curve === null || typeof curve !== 'object' || !Array.isArray(curve.single)) throw new Error(`${inFile} has no "single" array: is it bench/curve.js's output?`)
  return curve
}

/** The input as a reader of the README would name it: its path in this checkout, or its file name when outside. */
function sourceName (inFile) {
  const rel = path.relative(repoDir, inFile)
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.basename(inFile) : rel.split(path.sep).join('/')
}

function looks (curve) {
  const known = VARIANTS.map((v) => v.variant)
  const others = [...new Set(curve.single.map((e) => e.variant))].filter((v) => !known.includes(v)).sort()
  const used = VARIANTS.filter((v) => curve.single.some((e) => e.variant === v.variant))
  return [...used, ...others.map((variant, i) => ({ variant, label: variant, ...EXTRA[i % EXTRA.length] }))]
}

/** curve.js's foreign load (CPU on the bench's cores that was neither server nor clients, % of one core), or a text as given. */
function foreignText (f) {
  if (typeof f !== 'object') return String(f)
  const pct = (v) => (typeof v === 'number' ? `${v.toFixed(0)}%` : '?')
  return `${pct(f.pctOfCoreMedian)} of a core (max ${pct(f.pctOfCoreMax)})`
}

function captionOf (curve) {
  const m = curve.machine ?? {}
  const date = Number.isNaN(Date.parse(curve.date)) ? String(curve.date ?? 'an unknown date') : new Date(curve.date).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
  const load = Array.isArray(m.loadBefore) ? m.loadBefore.map((v) => (typeof v === 'number' ? v.toFixed(2) : String(v))).join(' ') : null
  const machine = [
    typeof m.cpus === 'number' ? `${m.cpus} CPUs` : null,
    load === null ? null : `load average before ${load}`,
    m.foreignLoad == null ? null : `foreign load ${foreignText(m.foreignLoad)}`
  ].filter((s) => s !== null).join(', ')
  return {
    commit: String(curve.commit ?? 'unknown').slice(0, 7),
    date,
    machine: machine || 'machine not recorded',
    command: Array.isArray(curve.command) ? curve.command.join(' ') : String(curve.command ?? 'unknown')
  }
}

/** The four line charts: each a list of series, one per variant (and per percentile for the latency). */
function lineCharts (curve, variants, captionLine) {
  const xValues = curve.single.map((e) => e.size)
  const pointsOf = (variant, y, whisker) => curve.single
    .filter((e) => e.variant === variant)
    .sort((a, b) => a.size - b.size)
    .map((e) => ({ x: e.size, y: y(e) ?? null, stopped: typeof e.stoppedBecause === 'string', ...(whisker ? whisker(e) : {}) }))
  const perVariant = (y, whisker) => variants.map((v) => ({ ...v, points: pointsOf(v.variant, y, whisker) }))
  const kB = (bytes) => (typeof bytes === 'number' ? bytes / 1000 : null)
  const common = { xTitle: 'connections (log scale)', caption: captionLine, xValues }
  return [
    {
      name: 'cpu',
      alt: 'Server CPU µs per delivered message against connections',
      svg: lineChart({
        ...common,
        title: 'Server CPU per delivered message (median, min..max)',
        yTitle: 'µs per delivered message',
        series: perVariant((e) => e.cpuUsPerMsg?.median, (e) => ({ lo: e.cpuUsPerMsg?.min ?? null, hi: e.cpuUsPerMsg?.max ?? null }))
      })
    },
    {
      name: 'latency',
      alt: 'Trigger to last delivery, p50 and p99 ms, against connections',
      svg: lineChart({
        ...common,
        title: 'Trigger to last delivery: p50 (solid), p99 (dashed)',
        yTitle: 'ms',
        series: variants.flatMap((v) => [
          { ...v, label: `${v.label} p50`, points: pointsOf(v.variant, (e) => e.lastDeliveryMs?.p50) },
          { ...v, label: `${v.label} p99`, dashed: true, points: pointsOf(v.variant, (e) => e.lastDeliveryMs?.p99) }
        ])
      })
    },
    {
      name: 'rss',
      alt: 'RSS per connection, kB, against connections',
      svg: lineChart({ ...common, title: 'RSS per connection', yTitle: 'kB per connection', series: perVariant((e) => kB(e.rssPerConnBytes)) })
    },
    {
      name: 'heap',
      alt: 'Heap per connection, kB, against connections',
      svg: lineChart({ ...common, title: 'Heap per connection', yTitle: 'kB per connection', series: perVariant((e) => kB(e.heapPerConnBytes)) })
    }
  ]
}

function clusterChart (cluster, captionLine) {
  const nodes = [...(cluster.perNode ?? [])].sort((a, b) => a.node - b.node)
  const bars = (value) => nodes.map((n) => ({ label: `node ${n.node}`, value: value(n) }))
  const f = (v) => (typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '-')
  return {
    name: 'cluster',
    alt: `Cluster of ${cluster.nodes} nodes: CPU % and RSS MB per node`,
    svg: barPanels({
      title: `${cluster.nodes} nodes, ${f(cluster.connections)} connections: last delivery p50 ${f(cluster.lastDeliveryMs?.p50)} ms, p99 ${f(cluster.lastDeliveryMs?.p99)} ms`,
      caption: captionLine,
      panels: [
        { title: 'server CPU %', color: '#0072B2', decimals: 1, bars: bars((n) => n.cpuPercent ?? null) },
        { title: 'RSS MB', color: '#56B4E9', decimals: 0, bars: bars((n) => (typeof n.rssBytes === 'number' ? n.rssBytes / 1e6 : null)) }
      ]
    })
  }
}

/** A path as printed: relative to the current directory when under it. */
function shown (p) {
  const rel = path.relative(process.cwd(), p)
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel
}

async function main () {
  const inFile = file(args.in, 'bench/results/curve.json')
  const outDir = file(args.out, 'bench/charts')
  const readmeFile = file(args.readme, 'bench/README.md')
  const curve = readCurve(inFile)
  // A single-node run keeps the cluster part of the previous file and the other way round (`singleFrom`,
  // `clusterFrom`): each part is captioned with the commit, date and command of the run that measured it.
  const caption = { single: captionOf({ ...curve, ...curve.singleFrom }), cluster: captionOf({ ...curve, ...curve.clusterFrom }) }
  const line = (c) => `commit ${c.commit} · ${c.date} · ${c.machine}`
  const variants = looks(curve)
  const charts = lineCharts(curve, variants, line(caption.single))
  if (curve.cluster) charts.push(clusterChart(curve.cluster, line(caption.cluster)))
  // The README's new text before any chart: a README with broken markers stops the run with nothing written.
  const readme = args.noReadme === true ? null : nextReadme(curve, { readmeFile, outDir, variants, charts, caption, inFile })

  fs.mkdirSync(outDir, { recursive: true })
  if (!curve.cluster) fs.rmSync(path.join(outDir, 'cluster.png'), { force: true }) // no stale chart of an earlier run
  await writePngs(charts.map((c) => ({ svg: c.svg, file: path.join(outDir, `${c.name}.png`) })))
  for (const c of charts) process.stdout.write(`wrote ${shown(path.join(outDir, c.name + '.png'))}\n`)

  if (readme === null) return
  if (readme.changed) fs.writeFileSync(readmeFile, readme.text)
  process.stdout.write(`${readme.changed ? 'updated' : 'unchanged'} ${shown(readmeFile)}\n`)
}

/** The README with its generated block for these results, and whether that changes it. */
function nextReadme (curve, { readmeFile, outDir, variants, charts, caption, inFile }) {
  const text = fs.readFileSync(readmeFile, 'utf8')
  const href = (name) => path.relative(path.dirname(readmeFile), path.join(outDir, `${name}.png`)).split(path.sep).join('/')
  const block = curveBlock(curve, {
    label: (v) => variants.find((x) => x.variant === v)?.label ?? v,
    order: variants.map((v) => v.variant),
    images: charts.map((c) => ({ alt: c.alt, href: href(c.name) })),
    source: sourceName(inFile),
    caption
  })
  let next
  try {
    next = replaceBlock(text, block)
  } catch (err) {
    throw new Error(`${readmeFile}: ${err.message}`)
  }
  return { text: next, changed: next !== text }
}

runMain(main)
