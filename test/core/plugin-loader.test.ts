import t from 'tap'
import { resolveConfig } from '../../src/config/load.js'
import { buildApp } from '../../src/app.js'
import { builtinNames, loadPlugins, orderByDependencies } from '../../src/core/plugins/loader.js'
import { startServer } from 'realtime-server/testing'

const fixture = (name: string): { from: string } => ({ from: `./test/fixtures/plugins/${name}` })
const load = async (plugins: Record<string, unknown>, baseDir = process.cwd()): Promise<unknown> =>
  await loadPlugins(resolveConfig({ plugins }, { env: { JWT_SECRET: 'x' } }).config.plugins, baseDir)

t.test('an unknown built-in name lists the known ones', async (t) => {
  const known = builtinNames()
  await t.rejects(load({ 'no-such-plugin': {} }), {
    code: 'RT_ERR_PLUGIN_NOT_FOUND',
    message: new RegExp(`"no-such-plugin": not a built-in plugin \\(built-in: ${known.join(', ')}\\); to load another one set plugins\\.no-such-plugin\\.from`)
  })
})

t.test('loading by path, relative to the config file', async (t) => {
  const [p] = await load({ probe: { from: './fixtures/plugins/probe' } }, `${process.cwd()}/test`) as Array<{ name: string, options: unknown }>
  t.equal(p!.name, 'probe')
  t.same(p!.options, { namespace: '/', exclusive: false, limit: 10 }, 'options defaults applied')
  await t.rejects(load({ probe: { from: './nowhere' } }), { code: 'RT_ERR_PLUGIN_NOT_FOUND', message: /nothing to load at .*nowhere/ })
})

t.test('loading by npm package name, resolved from the config file\'s folder', async (t) => {
  const server = await startServer({ config: { plugins: { 'rt-fixture-plugin': { from: 'rt-fixture-plugin', options: { word: 'npm' } } } }, baseDir: `${process.cwd()}/test/fixtures/pkgroot` })
  t.teardown(() => server.close())
  t.same((await server.request('GET', '/api/rt-fixture-plugin/word')).body, { word: 'npm' })
  await t.rejects(load({ 'not-installed': { from: 'rt-not-installed-anywhere' } }), { code: 'RT_ERR_PLUGIN_NOT_FOUND', message: /package "rt-not-installed-anywhere" is not installed/ })
})

t.test('bad options stop start-up with their JSON path', async (t) => {
  await t.rejects(load({ probe: { ...fixture('probe'), options: { limit: 0 } } }), { code: 'RT_ERR_CONFIG', message: /plugins\.probe\.options\.limit: must be >= 1/ })
  await t.rejects(load({ probe: { ...fixture('probe'), options: { nope: 1 } } }), { code: 'RT_ERR_CONFIG', message: /plugins\.probe\.options\.nope: is not an allowed property/ })
})

t.test('modules that are not plugins, or misnamed, are refused', async (t) => {
  await t.rejects(load({ 'not-a-plugin': fixture('not-a-plugin') }), { code: 'RT_ERR_PLUGIN_INVALID', message: /is not a plugin made with definePlugin\(\)/ })
  await t.rejects(load({ renamed: fixture('probe') }), { code: 'RT_ERR_PLUGIN_INVALID', message: /"renamed": the module declares the name "probe"/ })
})

t.test('dependencies: ordered, missing, cycles', async (t) => {
  const ordered = await load({ dependent: fixture('dependent'), base: fixture('base') }) as Array<{ name: string }>
  t.same(ordered.map((p) => p.name), ['base', 'dependent'], 'a dependency loads first whatever the config order')
  await t.rejects(load({ 'needs-missing': fixture('needs-missing') }), { code: 'RT_ERR_PLUGIN_DEPENDENCY', message: /"needs-missing" depends on "ghost", which is not enabled/ })
  await t.rejects(load({ 'cycle-a': fixture('cycle-a'), 'cycle-b': fixture('cycle-b') }), { code: 'RT_ERR_PLUGIN_DEPENDENCY', message: /dependency cycle: cycle-a -> cycle-b -> cycle-a/ })
  t.same(orderByDependencies([{ name: 'x', dependencies: [] }, { name: 'y', dependencies: [] }]).map((p) => p.name), ['x', 'y'], 'config order otherwise')

  const server = await startServer({ config: { plugins: { dependent: fixture('dependent'), base: fixture('base') } } })
  t.teardown(() => server.close())
  t.same((await server.request('GET', '/api/dependent/greet')).body, { text: 'hi dependent' }, 'a dependency\'s provided value is reachable')
})

t.test('two plugins on one client event, or claiming one namespace, are refused with both names', async (t) => {
  await t.rejects(startServer({ config: { plugins: { probe: fixture('probe'), clash: fixture('clash') } } }), {
    code: 'RT_ERR_NAMESPACE_CONFLICT',
    message: 'Namespace conflict: client event "probe:join" on namespace "/" is registered by both "probe" and "clash"'
  })
  await t.rejects(startServer({ config: { plugins: { clash: fixture('clash'), probe: { ...fixture('probe'), options: { exclusive: true } } } } }), {
    code: 'RT_ERR_NAMESPACE_CONFLICT',
    message: 'Namespace conflict: namespace "/" is claimed by both "clash" and "probe"'
  })
})

t.test('a plugin disabled in config is not loaded', async (t) => {
  t.same(await load({ probe: { ...fixture('probe'), enabled: false } }), [])
})

t.test('buildApp loads the plugins of the config itself', async (t) => {
  const { config } = resolveConfig({ plugins: { probe: fixture('probe') } }, { env: { JWT_SECRET: 'x', LOG_LEVEL: 'silent' } })
  const app = await buildApp(config)
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/api/probe/publish', headers: { 'x-api-key': 'development-only-api-key' }, payload: { tenantId: 't', event: 'e', payload: 1 } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().recipients, 0)
})
