// bench/charts.js run as users run it (a child process, Debian's chromium) on a fixture of bench/curve.js's JSON:
// the PNGs it writes, the table it generates in the README between the markers (figures and ratios worked out by
// hand from the fixture), the text around them kept byte for byte, the same output for the same input, and clear
// one-line errors.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const FIXTURE = 'test/fixtures/bench/curve.json'
const START = '<!-- curve-charts:start -->'
const END = '<!-- curve-charts:end -->'
const LINE_CHARTS = ['cpu', 'latency', 'rss', 'heap']

t.setTimeout(15 * 60_000) // four browser launches and a dozen node processes, on a loaded machine; nothing here measures time
const dir = mkdtempSync(join(tmpdir(), 'rt-charts-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const charts = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bench/charts.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 })

/** The width and height in a PNG's IHDR, after checking the signature. */
function pngSize (file: string): { width: number, height: number } {
  const png = readFileSync(file)
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error(`${file}: no PNG signature`)
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${file}: no IHDR first`)
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
}

/** The README's text before and after the generated block, markers included. */
function around (text: string): [string, string] {
  return [text.slice(0, text.indexOf(START) + START.length), text.slice(text.indexOf(END))]
}

t.test('charts and the README block from the results, the rest of the README untouched', async (t) => {
  const readme = join(dir, 'README.md')
  const original = readFileSync('bench/README.md', 'utf8') // the real one: its markers and the text around them
  writeFileSync(readme, original)
  const out = join(dir, 'charts')
  const run = charts([`--in=${FIXTURE}`, `--out=${out}`, `--readme=${readme}`])
  t.equal(run.status, 0, run.stderr)
  t.equal(run.stderr, '')

  // 760 × 440 SVG pixels for a line chart, 760 × 340 for the cluster's bars, at 2 device pixels a pixel.
  for (const name of LINE_CHARTS) t.same(pngSize(join(out, `${name}.png`)), { width: 1520, height: 880 }, `${name}.png`)
  t.same(pngSize(join(out, 'cluster.png')), { width: 1520, height: 680 }, 'cluster.png')

  const text = readFileSync(readme, 'utf8')
  t.same(around(text), around(original), 'the text outside the markers is unchanged')
  const block = text.slice(text.indexOf(START), text.indexOf(END))
  // The single-node figures were kept from an earlier run (`singleFrom`): its commit, date and command.
  t.match(block, 'Measured at commit `fedcba9` on 2026-11-30 13:40 UTC, 2 CPUs, load average before 0.12 0.30 0.25, foreign load 3% of a core (max 7%), 5 repetitions a point')
  t.match(block, '`node bench/curve.js --sizes=100,1000,5000,10000,19000 --reps=5`')
  for (const name of [...LINE_CHARTS, 'cluster']) t.match(block, new RegExp(`^!\\[[^\\]]+\\]\\(charts/${name}\\.png\\)$`, 'm'), `links ${name}.png`)

  const rows = block.split('\n').filter((l) => /^\| [\d,]+ \| [a-zA-Z]/.test(l))
  t.equal(rows.length, 15, 'one row per size and variant')
  const expected = [
    // product at 100: CPU with its min..max and ratio; no memory figure at that size
    '| 100 | product | 9.87 [9.50..10.40] (0.82×) | 41,000 | 0.92 (0.90×) | 2.10 (0.95×) | - | - |',
    // bare Socket.IO rows carry no ratio (to itself)
    '| 1,000 | bare Socket.IO | 7.80 [7.60..8.10] | 128,000 | 6.00 | 12.9 | 25.0 | 13.0 |',
    // bytes per connection as kB (21,500 B → 21.5)
    '| 1,000 | raw frame | 2.20 [2.10..2.40] (0.28×) | 430,000 | 2.40 (0.40×) | 4.80 (0.37×) | 8.20 (0.33×) | 2.10 (0.16×) |',
    '| 10,000 | product | 5.50 [5.30..5.80] (0.76×) | 174,000 | 55.1 (0.86×) | 118 (0.89×) | 19.5 (0.84×) | 8.70 (0.68×) |',
    // bare Socket.IO stopped before 19,000: no figures there, and no ratios for the others
    '| 19,000 | product | 5.45 [5.30..5.70] | 175,000 | 104 | 226 | 19.4 | 8.65 |',
    '| 19,000 | bare Socket.IO | - | - | - | - | - | - |',
    '| 19,000 | raw frame | 1.84 [1.80..1.90] | 523,000 | 38.7 | 83.5 | 7.80 | 1.98 |'
  ]
  for (const row of expected) t.ok(rows.includes(row), row)
  t.match(block, '- bare Socket.IO at 19,000 connections: stopped because the server did not keep up \\| 71% of the messages delivered')
  t.match(block, 'Cluster (`node bench/curve.js --sizes=100,1000,5000,10000,19000 --reps=5`, commit `0123456`, 2026-11-30 14:05 UTC): 3 nodes, 50,000 connections, 600 triggers; ' +
    'trigger to the last delivery on any node: product p50 143 ms (0.65×), p99 310 ms (0.56×); bare Socket.IO p50 219 ms, p99 554 ms.', 'the cluster run: its own command, the product against bare Socket.IO')
  t.match(block, '| product | 2 | 16,667 | 6.40 | 73.2 | 405 | 176 |', 'a node row: RSS and heap in MB')
  t.match(block, '| bare Socket.IO | 1 | 16,667 | 10.2 | 90.1 | 420 | 190 |', 'and bare Socket.IO\'s nodes')

  const pngs = Object.fromEntries([...LINE_CHARTS, 'cluster'].map((n) => [n, readFileSync(join(out, `${n}.png`))]))
  const again = charts([`--in=${FIXTURE}`, `--out=${out}`, `--readme=${readme}`])
  t.equal(again.status, 0, again.stderr)
  t.match(again.stdout, /^unchanged .*README\.md$/m, 'a second run leaves the README as it is')
  t.equal(readFileSync(readme, 'utf8'), text)
  for (const [name, png] of Object.entries(pngs)) t.ok(readFileSync(join(out, `${name}.png`)).equals(png), `${name}.png is the same, byte for byte`)
})

t.test('--no-readme, then a README without markers and results of another shape', async (t) => {
  const out = join(dir, 'charts-plain')
  const gap = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  gap.cluster.perNode[2].cpuPercent = null
  writeFileSync(join(dir, 'gap.json'), JSON.stringify(gap))
  const first = charts([`--in=${join(dir, 'gap.json')}`, `--out=${out}`, `--readme=${join(dir, 'absent.md')}`, '--no-readme'])
  t.equal(first.status, 0, first.stderr)
  t.equal(first.stdout.split('\n').filter((l) => l.startsWith('wrote ')).length, 5, 'four curves and the cluster, one node without its CPU %')
  t.notOk(existsSync(join(dir, 'absent.md')), '--no-readme: the README is not even read')
  t.ok(existsSync(join(out, 'cluster.png')))

  // No cluster; a fourth variant; a point without its CPU or ratios; repetitions that differ; no final newline.
  const curve = JSON.parse(readFileSync(FIXTURE, 'utf8'))
  delete curve.cluster
  const first100 = curve.single.find((e: { variant: string, size: number }) => e.variant === 'product' && e.size === 100)
  delete first100.cpuUsPerMsg
  delete first100.ratioToSocketio
  curve.single.push({ variant: 'product-nofast', size: 1000, reps: 3, cpuUsPerMsg: { median: 7.1, min: 7, max: 7.3 }, rateMsgPerSec: 130000, lastDeliveryMs: { p50: 5.9, p99: 12.5 }, rssPerConnBytes: 21600, heapPerConnBytes: 9150, ratioToSocketio: { cpuUsPerMsg: 0.91 } })
  const input = join(dir, 'other-shape.json')
  writeFileSync(input, JSON.stringify(curve))
  const readme = join(dir, 'plain.md')
  const original = '# Benchmarks\n\nWritten by hand.'
  writeFileSync(readme, original)

  const run = charts([`--in=${input}`, `--out=${out}`, `--readme=${readme}`])
  t.equal(run.status, 0, run.stderr)
  t.notOk(existsSync(join(out, 'cluster.png')), "an earlier run's cluster chart is removed")
  const text = readFileSync(readme, 'utf8')
  t.ok(text.startsWith(original + '\n\n## The curve\n\n' + START + '\n'), 'the hand-written text, then the new section')
  t.ok(text.endsWith(END + '\n'))
  t.match(text, 'from other-shape.json:', 'an input outside the checkout is named by its file name')
  t.match(text, '](charts-plain/cpu.png)', 'links relative to the README')
  t.match(text, ', 3-5 repetitions a point')
  t.match(text, '| 100 | product | - | 41,000 | 0.92 | 2.10 | - | - |\n')
  t.match(text, '| 1,000 | raw frame | 2.20 [2.10..2.40] (0.28×) | 430,000 | 2.40 (0.40×) | 4.80 (0.37×) | 8.20 (0.33×) | 2.10 (0.16×) |\n' +
    '| 1,000 | product-nofast | 7.10 [7.00..7.30] (0.91×) | 130,000 | 5.90 | 12.5 | 21.6 | 9.15 |\n', 'another variant after the three')
  t.notMatch(text, 'Cluster:')
  t.notMatch(text, 'cluster.png')
})

t.test('errors: one line, exit code 1, nothing written', async (t) => {
  const out = join(dir, 'never')
  const missing = charts([`--in=${join(dir, 'absent.json')}`, `--out=${out}`, '--no-readme'])
  t.equal(missing.status, 1)
  t.equal(missing.stderr, `error: ${join(dir, 'absent.json')} not found: run node bench/curve.js first, or pass --in=<results JSON>\n`)

  writeFileSync(join(dir, 'broken.json'), '{"single": [')
  const broken = charts([`--in=${join(dir, 'broken.json')}`, `--out=${out}`, '--no-readme'])
  t.equal(broken.status, 1)
  t.match(broken.stderr, /^error: \S+broken\.json is not JSON \(.+\)\n$/)

  writeFileSync(join(dir, 'other.json'), '{"results": []}')
  const other = charts([`--in=${join(dir, 'other.json')}`, `--out=${out}`, '--no-readme'])
  t.equal(other.status, 1)
  t.match(other.stderr, /^error: \S+other\.json has no "single" array: is it bench\/curve\.js's output\?\n$/)

  const half = join(dir, 'half.md')
  writeFileSync(half, `# x\n\n${START}\n`)
  const markers = charts([`--in=${FIXTURE}`, `--out=${out}`, `--readme=${half}`])
  t.equal(markers.status, 1)
  t.equal(markers.stderr, `error: ${half}: the README must hold ${START} once, followed by ${END} once\n`)
  t.equal(readFileSync(half, 'utf8'), `# x\n\n${START}\n`, 'the README is left as it was')
  t.notOk(existsSync(out), 'no chart written')

  const noBrowser = charts([`--in=${FIXTURE}`, `--out=${out}`, '--no-readme'], { CHROMIUM_PATH: join(dir, 'no-chromium') })
  t.equal(noBrowser.status, 1)
  t.equal(noBrowser.stderr, `error: ${join(dir, 'no-chromium')} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH\n`)

  const unknown = charts(['--input=x.json'])
  t.equal(unknown.status, 2, 'a usage error')
  t.match(unknown.stderr, /^error: unknown option --input \(known: .*--in .*--no-readme/)
})

t.test('--help', async (t) => {
  const help = charts(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^node bench\/charts\.js \[--in=bench\/results\/curve\.json\] \[--out=bench\/charts\]/)
})
