import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// `npm start`'s freshness check, in a project of its own whose `build` only writes the stamp: it builds when there is
// no build or a source is newer than it, says why on stderr, and otherwise does nothing.
const root = mkdtempSync(join(tmpdir(), 'rt-stale-'))
mkdirSync(join(root, 'scripts'))
mkdirSync(join(root, 'src', 'core'), { recursive: true })
mkdirSync(join(root, 'dist'))
copyFileSync('scripts/build-if-stale.js', join(root, 'scripts', 'build-if-stale.js'))
writeFileSync(join(root, 'package.json'), JSON.stringify({
  name: 'stale-check', private: true, type: 'module', scripts: { build: 'node -e "require(\'node:fs\').writeFileSync(\'dist/.build-stamp\', \'now\')"' }
}))
writeFileSync(join(root, 'src', 'core', 'a.ts'), 'export const a = 1\n')
const check = () => spawnSync(process.execPath, ['scripts/build-if-stale.js'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_execpath: '' } })

t.test('builds when needed, saying why; silent when the build is current', async (t) => {
  const first = check()
  t.equal(first.status, 0, first.stderr)
  t.match(first.stderr, /^realtime-server: building \(no build yet\)…\nrealtime-server: built in \d+\.\d s\n$/)
  const current = check()
  t.same([current.status, current.stderr], [0, ''], 'a current build: nothing to do, nothing said')
  const later = new Date(Date.now() + 60_000)
  utimesSync(join(root, 'src', 'core', 'a.ts'), later, later)
  const changed = check()
  t.match(changed.stderr, /^realtime-server: building \(src[/\\]core[/\\]a\.ts changed\)…\n/)
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'stale-check', private: true, type: 'module', scripts: { build: 'node -e "process.exit(3)"' } }))
  utimesSync(join(root, 'src', 'core', 'a.ts'), new Date(Date.now() + 120_000), new Date(Date.now() + 120_000))
  const failed = check()
  t.equal(failed.status, 3, 'a failed build stops the start with its code')
  t.match(failed.stderr, /realtime-server: the build failed \(see above\)\n$/)
})
