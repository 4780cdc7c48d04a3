// `npm start` and `npm run config:check` run this first: compiles only when a source is newer than the last build,
// saying so on stderr, so that a current build starts in node's own time (no tsc at every start).
// `npm run build` ends by writing dist/.build-stamp: the time the build is current from.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stamp = join(root, 'dist', '.build-stamp')

/** The newest file tsc compiles or the build copies: .ts under src, plugins and examples, the inspector page, tsconfig. */
function newest () {
  let found = { file: '', mtimeMs: 0 }
  const consider = (file) => {
    const { mtimeMs } = statSync(file)
    if (mtimeMs > found.mtimeMs) found = { file, mtimeMs }
  }
  const walk = (dir, all) => {
    if (!existsSync(dir)) return
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path, all || path.endsWith(join('inspector', 'page')))
      } else if (all || (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))) {
        consider(path)
      }
    }
  }
  for (const dir of ['src', 'plugins', 'examples']) walk(join(root, dir), false)
  for (const file of ['tsconfig.json', 'tsconfig.build.json']) if (existsSync(join(root, file))) consider(join(root, file))
  return found
}

// Without sources (an installed package) there is nothing to build.
if (!existsSync(join(root, 'src'))) process.exit(0)
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
const source = newest()
if (built >= source.mtimeMs) process.exit(0)
const why = built === 0 ? 'no build yet' : `${relative(root, source.file)} changed`
process.stderr.write(`realtime-server: building (${why})…\n`)
const started = Date.now()
const npm = process.env.npm_execpath
const result = npm !== undefined && npm.endsWith('.js')
  ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
if (result.status !== 0) {
  process.stderr.write('realtime-server: the build failed (see above)\n')
  process.exit(result.status ?? 1)
}
process.stderr.write(`realtime-server: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
