/**
 * The shell examples of README.md and the plugin READMEs run as written against the profile they name, so they
 * cannot drift from the server.
 *
 * Convention: every ```sh block carries, after `sh`, either `config=<profile>` (a file of config/examples
 * without `.json`, or `default` for config/default.json), optionally `tenant=<id>` (default `acme`) and
 * `join=<channel>` (user u-1 joins that chat channel first), or `norun` (commands that are not requests to a running
 * server: install, start), or `step=<name>` (examples/hello-plugin/README.md: the steps of a project outside the
 * repository, which test/package/package.test.ts runs as written). The tagged blocks of one README and profile run in order in bash against one server of
 * that profile, with `localhost:3000` pointing at it, `curl` failing on any HTTP error, and the variables the
 * READMEs use: `API_KEY` (an unbound key), `SERVICE_JWT` (a publisher JWT of the tenant), `USER_JWT` (user
 * `u-1` of the tenant, role admin).
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { startServer, TEST_API_KEY } from 'realtime-server/testing'

const files = ['README.md', ...readdirSync('plugins').map((p) => `plugins/${p}/README.md`), 'examples/hello-plugin/README.md']

interface Example { file: string, line: number, tags: Map<string, string>, code: string }

function examples (file: string): Example[] {
  const found: Example[] = []
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```sh\b(.*)$/.exec(lines[i]!)
    if (open === null) continue
    const tags = new Map(open[1]!.trim().split(/\s+/).filter(Boolean).map((w) => { const [k, v = ''] = w.split('='); return [k!, v] }))
    const start = i
    const body: string[] = []
    while (++i < lines.length && !lines[i]!.startsWith('```')) body.push(lines[i]!)
    found.push({ file, line: start + 1, tags, code: body.join('\n') })
  }
  return found
}

const profile = (name: string): { config: Record<string, any>, baseDir: string } => name === 'default'
  ? { config: JSON.parse(readFileSync('config/default.json', 'utf8')), baseDir: 'config' }
  : { config: JSON.parse(readFileSync(`config/examples/${name}.json`, 'utf8')), baseDir: 'config/examples' }

const bash = async (script: string, env: Record<string, string>): Promise<{ code: number, out: string }> =>
  await new Promise((resolve) => {
    execFile('bash', ['-e', '-o', 'pipefail', '-c', script], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}${stderr}` })
    })
  })

const all = files.flatMap(examples)

t.test('every shell example is tagged with the profile it runs against (or norun)', async (t) => {
  for (const e of all) t.ok(e.tags.has('config') || e.tags.has('norun') || e.tags.has('step'), `${e.file}:${e.line} has config=<profile>, norun or step=<name>`)
  t.same(all.filter((e) => e.tags.has('step')).map((e) => e.tags.get('step')), ['pack', 'project', 'server', 'client', 'trigger'], 'the steps test/package runs')
  t.ok(all.filter((e) => e.tags.has('config')).length >= 8, 'the examples are found')
})

// One server per README and profile; its examples run in document order (a read after the write that made it).
const groups = new Map<string, Example[]>()
for (const e of all.filter((x) => x.tags.has('config'))) {
  const key = `${e.file} ${e.tags.get('config')!}`
  groups.set(key, [...(groups.get(key) ?? []), e])
}

for (const [key, list] of groups) {
  t.test(`${key}: the examples run as written`, async (t) => {
    const server = await startServer(profile(list[0]!.tags.get('config')!))
    t.teardown(() => server.close())
    for (const e of list) {
      const tenantId = e.tags.get('tenant') ?? 'acme'
      // `join=<channel>`: user u-1 is a member of that chat channel (it joined from a socket), as the example assumes.
      const channel = e.tags.get('join')
      if (channel !== undefined) {
        const socket = await server.connect('/', { token: server.token({ sub: 'u-1', tenantId, role: 'admin' }) })
        t.notOk((await server.emitWithAck(socket, 'channel:join', { channelId: channel })).error, `u-1 joined ${channel}`)
      }
      const preamble = 'curl () { command curl -sS --fail-with-body "$@"; echo; }\n'
      const { code, out } = await bash(preamble + e.code.replaceAll('localhost:3000', `127.0.0.1:${server.port}`), {
        API_KEY: TEST_API_KEY,
        SERVICE_JWT: server.token({ sub: 'backend', tenantId, role: 'service' }),
        USER_JWT: server.token({ sub: 'u-1', tenantId, role: 'admin' })
      })
      t.equal(code, 0, code === 0 ? `${e.file}:${e.line} succeeds` : `${e.file}:${e.line} fails:\n${out}`)
    }
  })
}
