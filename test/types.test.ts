// Runs the type-level tests of the public API (test/types/*.tst.ts) with tstyche, so that a change that breaks a
// plugin author's types fails the suite.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'

t.setTimeout(300_000)

t.test('the public API types hold (tstyche)', async (t) => {
  const child = spawn(process.execPath, [join('node_modules', 'tstyche', 'dist', 'bin.js')], { env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.equal(code, 0, `tstyche passes:\n${out}`)
  t.match(out, /Tests:\s+\d+ passed, \d+ total/, 'tstyche ran the tests')
  t.notMatch(out, /failed/, 'no type test failed')
})
