// deploy/compose.yaml and the HAProxy config it mounts: two nodes of the image, Redis, a load balancer with sticky
// sessions and a readiness check; every port and path the files name is the one the app uses.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { dockerEnv, loadAsMain, readDockerfile, readYaml, secondsOf } from '../fixtures/deploy-files.js'

type Json = Record<string, any>

const COMPOSE = 'deploy/compose.yaml'
const compose = readYaml(COMPOSE)[0]!
const services = compose.services as Record<string, Json>
const docker = readDockerfile()
const imageEnv = dockerEnv(docker.stages[docker.stages.length - 1]!.instructions)

/** The services built from the repository's Dockerfile: the realtime nodes. */
const nodes = Object.entries(services).filter(([, s]) => s.build !== undefined && resolve(dirname(COMPOSE), s.build.context, s.build.dockerfile ?? 'Dockerfile') === resolve('Dockerfile'))
const lbEntry = Object.entries(services).find(([, s]) => String(s.image).startsWith('haproxy:'))
const redisEntry = Object.entries(services).find(([, s]) => String(s.image).startsWith('redis:'))

/** A bind mount `source:target[:ro]` of a service whose target is `target`, with its source resolved. */
function mountOf (service: Json, target: string): string | undefined {
  for (const v of service.volumes ?? []) {
    const [source, to] = String(v).split(':')
    if (to === target) return resolve(dirname(COMPOSE), source!)
  }
  return undefined
}

/** The node's effective config: its mounted config file with the image's and the service's environment. */
function nodeConfig (service: Json): ReturnType<typeof loadAsMain> {
  const file = mountOf(service, service.environment.CONFIG)
  if (file === undefined) throw new Error(`CONFIG ${service.environment.CONFIG} is not a mounted file`)
  const env: Record<string, string> = { ...imageEnv }
  for (const [k, v] of Object.entries(service.environment as Record<string, string>)) {
    // ${VAR:-default}: the default; ${VAR:?message}: a value the operator must give, a stand-in here.
    env[k] = String(v)
      .replace(/\$\{\w+:-([^}]*)\}/g, (_, fallback: string) => fallback)
      .replace(/\$\{(\w+):\?[^}]*\}/g, (_, name: string) => `${name.toLowerCase()}-from-the-operator-0123`)
  }
  return loadAsMain(JSON.parse(readFileSync(file, 'utf8')), env)
}

/** The HAProxy config as sections: `backend realtime_nodes` -> its lines. */
function haproxySections (text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trimEnd()
    if (line.trim() === '') continue
    if (!/^\s/.test(line)) sections.set(line.trim(), current = [])
    else current?.push(line.trim())
  }
  return sections
}

t.test('two nodes of the image, Redis and HAProxy', async (t) => {
  t.equal(nodes.length, 2, `two services built from the Dockerfile (${nodes.map(([n]) => n).join(', ')})`)
  t.ok(redisEntry, 'a Redis service')
  t.ok(lbEntry, 'an HAProxy service')
  t.equal(Object.keys(services).length, 4, 'nothing else')
  for (const [name, s] of nodes) {
    t.same(Object.keys(s.depends_on ?? {}), [redisEntry![0]], `${name} starts after Redis`)
    t.equal(s.depends_on[redisEntry![0]].condition, 'service_healthy', `${name} waits for Redis to answer`)
    t.equal(s.read_only, true, `${name}: read-only root file system`)
  }
  t.same([...lbEntry![1].depends_on].sort(), nodes.map(([n]) => n).sort(), 'the load balancer starts after both nodes')
})

t.test('each node loads its config as main.ts does, with Redis and the operator\'s secrets', async (t) => {
  const redisName = redisEntry![0]
  for (const [name, s] of nodes) {
    t.match(s.environment.JWT_SECRET, /^\$\{JWT_SECRET:\?/, `${name}: JWT_SECRET must be given (no development secret in production)`)
    t.match(s.environment.API_KEYS, /^\$\{API_KEYS:\?/, `${name}: API_KEYS must be given`)
    const { config, production } = nodeConfig(s)
    t.ok(production, `${name}: NODE_ENV=production from the image`)
    t.equal(config.redis.url, `redis://${redisName}:6379`, `${name}: REDIS_URL names the Redis service`)
    t.equal(config.server.port, Number(imageEnv.PORT), `${name}: listens on the image's port`)
    t.ok(s.expose.map(Number).includes(config.server.port), `${name}: exposes ${config.server.port}`)
    t.ok(s.expose.map(Number).includes(config.metrics.port), `${name}: exposes the metrics port ${String(config.metrics.port)}`)
    t.equal(config.server.trustProxy, true, `${name}: behind the load balancer, client addresses come from X-Forwarded-For`)
    // Docker sends SIGKILL after stop_grace_period; the node exits by shutdown.timeoutMs (the drain included).
    const grace = secondsOf(s.stop_grace_period)
    const { drainDelayMs, timeoutMs } = config.shutdown
    t.ok(grace > (drainDelayMs + timeoutMs) / 1000, `${name}: stop_grace_period ${grace} s > drain ${drainDelayMs} ms + timeout ${timeoutMs} ms`)
  }
})

t.test('the compose config and the Kubernetes ConfigMap are one config', async (t) => {
  const file = mountOf(nodes[0]![1], nodes[0]![1].environment.CONFIG)!
  const fromFile = JSON.parse(readFileSync(file, 'utf8'))
  delete fromFile.$schema
  const configMap = readYaml('deploy/k8s/configmap.yaml')[0]!
  const [key, text] = Object.entries(configMap.data as Record<string, string>)[0]!
  t.equal(key, 'realtime.json')
  t.same(JSON.parse(text), fromFile, `${file} and the ConfigMap hold the same config`)
  const schema = JSON.parse(readFileSync(file, 'utf8')).$schema
  t.ok(existsSync(join(dirname(file), schema)), `its $schema (${schema}) is the generated schema`)
})

t.test('HAProxy: sticky cookie, a readiness check faster than the drain, the nodes\' port, WebSocket time-outs', async (t) => {
  const [, lb] = lbEntry!
  const cfgFile = mountOf(lb, '/usr/local/etc/haproxy/haproxy.cfg')
  t.ok(cfgFile !== undefined && existsSync(cfgFile), 'mounts deploy/haproxy/haproxy.cfg where the image reads it')
  const sections = haproxySections(readFileSync(cfgFile!, 'utf8'))
  const frontend = [...sections].find(([k]) => k.startsWith('frontend '))?.[1] ?? []
  const backendName = /^default_backend (\S+)$/.exec(frontend.find((l) => l.startsWith('default_backend')) ?? '')?.[1]
  const backend = sections.get(`backend ${backendName}`)
  t.ok(backend, `the frontend's default backend (${backendName}) is defined`)

  const bind = Number(/^bind :(\d+)$/.exec(frontend.find((l) => l.startsWith('bind')) ?? '')?.[1])
  t.ok(lb.ports.some((p: string) => String(p).endsWith(`:${bind}`)), `the frontend's port ${bind} is published`)
  t.ok(frontend.includes('http-request del-header X-Forwarded-For') && frontend.includes('option forwardfor'), 'X-Forwarded-For is written by HAProxy only (the nodes trust it)')

  const cookie = /^cookie (\S+) insert\b/.exec(backend!.find((l) => l.startsWith('cookie ')) ?? '')
  t.ok(cookie, 'the backend inserts a cookie: long-polling requests stay on their node')
  const servers = backend!.filter((l) => l.startsWith('server ')).map((l) => /^server (\S+) ([^:\s]+):(\d+) .*\bcookie (\S+)/.exec(l))
  t.equal(servers.length, 2, 'two servers')
  const { config } = nodeConfig(nodes[0]![1])
  const cookies = new Set<string>()
  for (const s of servers) {
    t.ok(s, 'each server has a cookie value')
    if (s === null) continue
    t.ok(nodes.some(([n]) => n === s[2]), `${s[1]} is the compose service ${s[2]}`)
    t.equal(Number(s[3]), config.server.port, `${s[1]}: the nodes' port`)
    cookies.add(s[4]!)
  }
  t.equal(cookies.size, 2, 'one cookie value per server')

  t.ok(backend!.includes('option httpchk'), 'HTTP health checks')
  const uri = /http-check send meth GET uri (\S+)/.exec(backend!.join('\n'))?.[1]
  t.equal(uri, '/ready', 'the check asks the readiness route (503 while draining)')
  t.ok(backend!.includes('http-check expect status 200'))
  const defaults = backend!.find((l) => l.startsWith('default-server')) ?? ''
  const inter = secondsOf(/\binter (\S+)/.exec(defaults)?.[1] ?? '')
  const fall = Number(/\bfall (\d+)/.exec(defaults)?.[1])
  t.ok(inter * fall * 1000 < config.shutdown.drainDelayMs, `a draining node is down after ${inter} s x ${fall} checks, within shutdown.drainDelayMs (${config.shutdown.drainDelayMs} ms)`)

  const timeouts = new Map((sections.get('defaults') ?? []).map((l) => /^timeout (\S+) (\S+)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, secondsOf(m[2]!)]))
  const longPoll = config.socketio.pingInterval / 1000
  t.ok(timeouts.get('server')! > longPoll && timeouts.get('client')! > longPoll, `client and server time-outs above pingInterval (${longPoll} s): a long-polling GET is held that long`)
  t.ok(timeouts.get('tunnel')! > (config.socketio.pingInterval + config.socketio.pingTimeout) / 1000, 'the WebSocket tunnel time-out outlasts pingInterval + pingTimeout')
})
