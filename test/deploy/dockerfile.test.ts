// The Dockerfile against the package and the app: an LTS Node in every stage that `engines` admits, the start
// command of package.json, a HEALTHCHECK that passes against a real server, the port the app listens on, and
// .ci/run repeating the image's steps. Docker does not run here; these are the parts that can be held to the code.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { freePort, startServer } from 'realtime-server/testing'
import { dockerEnv, instruction, loadAsMain, readDockerfile } from '../fixtures/deploy-files.js'

const run = promisify(execFile)
const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const docker = readDockerfile()
const runtime = docker.stages[docker.stages.length - 1]!

/** Node lines in long-term support that are not past their end of life (April 2026 for 20). */
const LTS = new Set([22, 24])

/** Whether `major` satisfies one `||` alternative of `engines.node` of the forms `^X.Y.Z`, `>=X` or `X`. */
function enginesAdmit (range: string, major: number, minor = Infinity): boolean {
  return range.split('||').map((s) => s.trim()).some((alt) => {
    const caret = /^\^(\d+)\.(\d+)\.\d+$/.exec(alt)
    if (caret !== null) return Number(caret[1]) === major && minor >= Number(caret[2])
    const atLeast = /^>=\s*(\d+)/.exec(alt)
    if (atLeast !== null) return major >= Number(atLeast[1])
    return /^\d+$/.test(alt) && Number(alt) === major
  })
}

t.test('every stage runs one Node LTS line, which engines admits, as it admits the Node running these tests', async (t) => {
  t.equal(docker.stages.length, 2, 'a build stage and a runtime stage')
  const majors = docker.stages.map((s) => {
    const m = /^node:(\d+)(?:[.-]|$)/.exec(s.image)
    t.ok(m, `${s.image} is an official node image with its major version in the tag`)
    return Number(m?.[1])
  })
  t.equal(new Set(majors).size, 1, 'the build and runtime stages use the same Node')
  t.ok(LTS.has(majors[0]!), `Node ${majors[0]} is a supported LTS line (22 or 24)`)
  t.ok(enginesAdmit(pkg.engines.node, majors[0]!), `engines "${pkg.engines.node}" admits the image's Node ${majors[0]}`)
  const [major, minor] = process.versions.node.split('.').map(Number)
  t.ok(enginesAdmit(pkg.engines.node, major!, minor), `engines admits the Node the tests run on (${process.version})`)
  t.notOk(enginesAdmit(pkg.engines.node, 18, 99), 'engines refuses a Node older than 20')
  const base = docker.stages.map((s) => s.image.replace(/^node:\d+/, ''))
  t.equal(base[0], base[1], 'one base distribution for both stages')
})

t.test('the image runs `npm start`\'s command as a non-root user, with what it copies present', async (t) => {
  const cmd = JSON.parse(instruction(runtime, 'CMD') ?? 'null')
  t.ok(Array.isArray(cmd), 'CMD in exec form: SIGTERM reaches node, not a shell')
  // `npm start` checks the build is current first; the image is built, so it runs the command that follows.
  t.equal(cmd.join(' '), pkg.scripts.start.split(' && ').at(-1), 'CMD is package.json\'s start command')
  t.ok(existsSync(cmd[1].replace(/^dist\//, '').replace(/\.js$/, '.ts')), `${String(cmd[1])} is built from a source file`)
  const user = instruction(runtime, 'USER')
  t.ok(user !== undefined && user !== 'root' && user !== '0', `runs as ${user}`)
  t.equal(dockerEnv(runtime.instructions).NODE_ENV, 'production')
  for (const stage of docker.stages) {
    for (const { op, value } of stage.instructions) {
      if (op !== 'COPY' || value.startsWith('--from')) continue
      for (const source of value.split(/\s+/).slice(0, -1)) t.ok(existsSync(source), `COPY ${source}: exists`)
    }
  }
})

t.test('EXPOSE is the port the app listens on with the image\'s environment', async (t) => {
  const env = dockerEnv(runtime.instructions)
  const exposed = Number(instruction(runtime, 'EXPOSE'))
  const { config } = loadAsMain({}, { ...env, JWT_SECRET: 'a-secret-for-the-test', API_KEYS: 'a-key-for-the-test-0123' })
  t.equal(config.server.port, exposed, `PORT ${env.PORT} -> server.port ${config.server.port}, EXPOSE ${exposed}`)
  t.equal(config.server.host, '0.0.0.0', 'listens on every interface of the container')
})

t.test('the HEALTHCHECK command passes against a running server and fails without one', async (t) => {
  const healthcheck = instruction(runtime, 'HEALTHCHECK') ?? ''
  const m = /CMD node -e "(.*)"$/.exec(healthcheck)
  t.ok(m, 'HEALTHCHECK CMD node -e "<script>"')
  const script = m![1]!
  const path = /'(\/[a-z]+)'/.exec(script)?.[1]
  t.equal(path, '/health', 'it asks the liveness route')
  const server = await startServer()
  t.teardown(async () => { await server.close() })
  t.equal((await server.request('GET', path!)).status, 200, `${path} answers 200`)
  const passes = await run(process.execPath, ['-e', script], { env: { ...process.env, PORT: String(server.port) } }).then(() => 0, (err: { code: number }) => err.code)
  t.equal(passes, 0, 'exit 0 against the server')
  const closed = await freePort()
  const fails = await run(process.execPath, ['-e', script], { env: { ...process.env, PORT: String(closed) } }).then(() => 0, (err: { code: number }) => err.code)
  t.equal(fails, 1, 'exit 1 when nothing listens')
})

t.test('.ci/run repeats the image\'s steps', async (t) => {
  const ci = readFileSync('.ci/run', 'utf8')
  const runs = runtime.instructions.filter((i) => i.op === 'RUN').map((i) => i.value)
  const install = runs.map((r) => /npm ci[^&]*/.exec(r)?.[0].trim()).find((r) => r !== undefined)
  t.ok(install, 'the runtime stage installs with npm ci')
  t.ok(ci.includes(install!), `.ci/run runs "${install}"`)
  const buildRuns = docker.stages[0]!.instructions.filter((i) => i.op === 'RUN').map((i) => i.value)
  t.ok(buildRuns.includes('npm run build') && ci.includes('npm run build'), 'both build with npm run build')
  const copied = runtime.instructions.filter((i) => i.op === 'COPY').flatMap((i) => i.value.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1))
  for (const source of copied) {
    const name = source.replace(/^\/app\//, '')
    t.match(ci, new RegExp(`cp [^\\n]*\\b${name.replaceAll('.', '\\.')}\\b`), `.ci/run copies ${name} into the image directory`)
  }
  const cmd = (JSON.parse(instruction(runtime, 'CMD')!) as string[]).join(' ')
  t.ok(ci.includes(cmd), `.ci/run starts "${cmd}"`)
  t.ok(ci.includes('NODE_VERSION'), '.ci/run reads the image\'s Node version from the Dockerfile')
})
