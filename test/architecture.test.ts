// Import boundaries: a built-in plugin (and the example plugin) reaches the core through `realtime-server` only.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'

const root = process.cwd()
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
const builtins = new Set(builtinModules)

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|js)$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : []
  })
}

/** Module specifiers of static imports, re-exports and dynamic imports with a literal argument. */
function specifiers (source: string): string[] {
  const found: string[] = []
  const patterns = [/\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm]
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]!)
  return found
}

/** Why `spec`, imported by `file` of the plugin folder `home`, crosses a boundary; undefined when it does not. */
function violation (spec: string, file: string, home: string): string | undefined {
  if (spec.startsWith('.')) {
    const target = resolve(dirname(file), spec)
    return target === home || target.startsWith(home + sep) ? undefined : `reaches outside its folder (${relative(root, target)})`
  }
  if (spec === 'realtime-server') return undefined
  if (spec.startsWith('realtime-server/')) return 'imports a subpath of realtime-server; plugins use the public entry point only'
  if (spec.startsWith('node:') || builtins.has(spec)) return undefined
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!
  return name in pkg.dependencies ? undefined : `imports "${spec}", which is not a runtime dependency`
}

const homes = [
  ...readdirSync(join(root, 'plugins')).map((d) => join(root, 'plugins', d)),
  ...readdirSync(join(root, 'examples')).map((d) => join(root, 'examples', d))
].filter((d) => statSync(d).isDirectory())

t.test('the import scanner sees every form of import', async (t) => {
  const src = "import a from 'x'\nimport { b } from \"y\"\nexport * from './z.js'\nimport type { C } from 'w'\nconst d = await import('v')\nimport 'side-effect'\n"
  t.same(specifiers(src).sort(), ['./z.js', 'side-effect', 'v', 'w', 'x', 'y'])
})

t.test('plugins and examples import only realtime-server, node builtins, dependencies and their own files', async (t) => {
  t.ok(homes.length >= 6, `plugin folders found (${homes.length})`)
  for (const home of homes) {
    const problems: string[] = []
    for (const file of sourceFiles(home)) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const why = violation(spec, file, home)
        if (why !== undefined) problems.push(`${relative(root, file)}: ${why}`)
      }
    }
    t.same(problems, [], `${relative(root, home)} keeps to the public API`)
  }
})

t.test('a file reaching into the core is caught', async (t) => {
  const home = join(root, 'plugins', 'presence')
  const file = join(home, 'index.ts')
  t.match(violation('../../src/core/namespaces.js', file, home), /reaches outside its folder/)
  t.match(violation('realtime-server/testing', file, home), /subpath/)
  t.match(violation('socket.io-client', file, home), /not a runtime dependency/)
  t.equal(violation('./rooms.js', file, home), undefined)
  t.equal(violation('node:crypto', file, home), undefined)
})

/** The `src/` files of `dir` and the `src/` folders they import from (relative imports only). */
function srcImports (dir: string): Array<{ file: string, target: string }> {
  return sourceFiles(join(root, 'src', dir)).flatMap((file) => specifiers(readFileSync(file, 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => ({ file: relative(root, file), target: relative(join(root, 'src'), resolve(dirname(file), spec)) })))
}

t.test('the shared leaves import nothing of the server, and config imports nothing of the core', async (t) => {
  const leaves = srcImports('lib').filter(({ target }) => !target.startsWith('lib' + sep))
  t.same(leaves, [], 'src/lib imports only src/lib')
  const config = srcImports('config').filter(({ target }) => !target.startsWith('lib' + sep) && !target.startsWith('config' + sep))
  t.same(config, [], 'src/config imports only src/config and src/lib')
})

t.test('every source file opens with a comment that says what it is', async (t) => {
  const files = ['src', 'plugins', 'examples'].flatMap((d) => sourceFiles(join(root, d)))
  t.ok(files.length > 100, `scanned ${files.length} files`)
  const bare = files.filter((f) => {
    const lines = readFileSync(f, 'utf8').split('\n')
    const first = lines[0]!.startsWith('#!') ? lines[1]! : lines[0]!
    return !/^\s*(\/\/|\/\*)/.test(first)
  }).map((f) => relative(root, f))
  t.same(bare, [], 'files without an opening comment')
})
