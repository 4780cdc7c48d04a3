// The Kubernetes manifests of deploy/k8s against the app: the ConfigMap loads as main.ts loads it, the probes ask
// routes that answer on a real server started with that config, the ports are the config's, the grace period
// outlasts the drain, and the resources are the ones deploy/README.md derives from the measured memory.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { freePort, startServer } from 'realtime-server/testing'
import { METRICS_PATH } from '../../src/core/metrics/endpoint.js'
import { bytesOf, dockerEnv, loadAsMain, manifest, measuredBaselineBytes, measuredBytesPerConnection, readDockerfile, readYaml, yamlFiles } from '../fixtures/deploy-files.js'

type Json = Record<string, any>

const DIR = 'deploy/k8s'
const kustomization = readYaml(`${DIR}/kustomization.yaml`)[0]!
const docs = (kustomization.resources as string[]).flatMap((f) => readYaml(`${DIR}/${f}`))
const deployment = manifest(docs, 'Deployment', 'realtime-server')
const pod = deployment.spec.template.spec as Json
const container = pod.containers.find((c: Json) => c.name === 'realtime-server') as Json
const service = manifest(docs, 'Service', 'realtime-server')
const configMap = manifest(docs, 'ConfigMap')
const pdb = manifest(docs, 'PodDisruptionBudget')
const imageEnv = dockerEnv(readDockerfile().stages.at(-1)!.instructions)

const literalEnv = Object.fromEntries((container.env as Json[]).filter((e) => e.value !== undefined).map((e) => [e.name, String(e.value)]))
const secretEnv = (container.env as Json[]).filter((e) => e.valueFrom?.secretKeyRef !== undefined)

/** The ConfigMap's file that CONFIG names, through the volume mounted at its directory. */
function configFile (): { key: string, raw: Json } {
  const path = literalEnv.CONFIG!
  const mount = (container.volumeMounts as Json[]).find((m) => path.startsWith(`${String(m.mountPath)}/`))
  if (mount === undefined) throw new Error(`CONFIG ${path} is under no volume mount`)
  const volume = (pod.volumes as Json[]).find((v) => v.name === mount.name)
  if (volume?.configMap?.name !== configMap.metadata.name) throw new Error(`${String(mount.mountPath)} is not the ConfigMap ${configMap.metadata.name}`)
  const key = path.slice(String(mount.mountPath).length + 1)
  return { key, raw: JSON.parse(configMap.data[key]) }
}

/** The config a pod runs with: the ConfigMap's file, the image's environment, the container's, the Secret's keys. */
const loaded = loadAsMain(configFile().raw, {
  ...imageEnv,
  ...literalEnv,
  ...Object.fromEntries(secretEnv.filter((e) => e.valueFrom.secretKeyRef.optional !== true).map((e) => [e.name, `${String(e.name).toLowerCase()}-from-the-secret-0123`]))
})
const config = loaded.config

const port = (name: string): number => {
  const p = (container.ports as Json[]).find((p) => p.name === name)
  if (p === undefined) throw new Error(`the container has no port named ${name}`)
  return p.containerPort
}

t.test('every YAML file under deploy/ parses, and kustomize lists every manifest of deploy/k8s', async (t) => {
  const files = yamlFiles()
  t.ok(files.length >= 7, `${files.length} YAML files`)
  for (const f of files) t.doesNotThrow(() => readYaml(f), `${f} is valid YAML`)
  const manifests = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort()
  t.same([...kustomization.resources].sort(), manifests, 'kustomization.yaml lists each manifest')
  for (const d of docs) t.ok(typeof d.apiVersion === 'string' && typeof d.kind === 'string' && typeof d.metadata?.name === 'string', `${String(d.kind)} ${String(d.metadata?.name)}: apiVersion, kind, name`)
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
  const image = (kustomization.images as Json[]).find((i) => i.name === container.image)
  t.ok(image, `kustomize sets the tag of the image ${String(container.image)}`)
  t.equal(image?.newTag, pkg.version, 'the tag is the package version')
})

t.test('the ConfigMap\'s config loads as main.ts loads it, in production, with Redis and the Secret', async (t) => {
  t.ok(loaded.production, 'NODE_ENV=production from the image')
  t.same(loaded.warnings, [], 'no start-up warning (no development key)')
  for (const name of ['JWT_SECRET', 'API_KEYS']) {
    t.ok(secretEnv.some((e) => e.name === name && e.valueFrom.secretKeyRef.optional !== true), `${name} comes from a Secret`)
    t.notOk(name in literalEnv, `${name} is not written in the manifest`)
  }
  const redisService = manifest(docs, 'Service', 'realtime-redis')
  t.equal(config.redis.url, `redis://${String(redisService.metadata.name)}:${String(redisService.spec.ports[0].port)}`, 'REDIS_URL names the Redis Service and its port')
  t.equal(config.server.port, Number(imageEnv.PORT), 'the ConfigMap\'s server.port agrees with the image\'s PORT')
  t.equal(configFile().raw.server.port, config.server.port, 'the ConfigMap says the port the pod listens on')
})

t.test('ports: the container, the Service and the Prometheus annotations are the config\'s', async (t) => {
  t.equal(port('http'), config.server.port, `containerPort http = server.port ${config.server.port}`)
  t.equal(port('metrics'), config.metrics.port, `containerPort metrics = metrics.port ${String(config.metrics.port)}`)
  t.equal(config.metrics.host, '0.0.0.0', 'the metrics listener is reachable from outside the pod (by Prometheus)')
  const annotations = deployment.spec.template.metadata.annotations as Json
  t.equal(Number(annotations['prometheus.io/port']), config.metrics.port)
  t.equal(annotations['prometheus.io/path'], METRICS_PATH)
  const http = (service.spec.ports as Json[]).find((p) => p.name === 'http')
  t.ok(http, 'the Service has an http port')
  t.equal(http?.targetPort, 'http', 'it targets the container\'s http port')
  t.equal(http?.port, config.server.port, 'and serves it on the same number')
  t.notOk((service.spec.ports as Json[]).some((p) => p.targetPort === 'metrics' || p.targetPort === config.metrics.port), 'the metrics port is not on the Service')
  t.equal(service.spec.sessionAffinity, 'ClientIP', 'session affinity for long-polling clients that reach it directly')
})

t.test('labels: the Service, the PodDisruptionBudget and the Deployment select the pods', async (t) => {
  const labels = deployment.spec.template.metadata.labels as Json
  const selects = (selector: Json): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v)
  t.ok(selects(deployment.spec.selector.matchLabels), 'the Deployment\'s selector')
  t.ok(selects(service.spec.selector), 'the Service\'s selector')
  t.ok(selects(pdb.spec.selector.matchLabels), 'the PodDisruptionBudget\'s selector')
  t.ok(deployment.spec.replicas >= 2, `${String(deployment.spec.replicas)} replicas`)
  t.ok(pdb.spec.maxUnavailable < deployment.spec.replicas, `the budget keeps a pod up (maxUnavailable ${String(pdb.spec.maxUnavailable)})`)
  t.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, 'a rollout starts a new pod before it drains an old one')
})

t.test('probes ask routes that answer 200 on a server started with the ConfigMap\'s config', async (t) => {
  const probes = { startupProbe: '/health', livenessProbe: '/health', readinessProbe: '/ready' }
  for (const [probe, path] of Object.entries(probes)) {
    t.equal(container[probe]?.httpGet?.path, path, `${probe} asks ${path}`)
    t.equal(container[probe]?.httpGet?.port, 'http', `${probe} on the http port`)
  }
  t.ok(container.readinessProbe.timeoutSeconds > 1, 'readiness waits longer than /ready\'s 1 s Redis PING')
  const metricsPort = await freePort()
  const raw = configFile().raw
  // The plugins of the ConfigMap with their options: startServer validates them as the plugin loader of main.ts does.
  const server = await startServer({ redis: true, config: { ...raw, metrics: { ...raw.metrics, port: metricsPort, host: '127.0.0.1' } } })
  t.teardown(async () => { await server.close() })
  for (const [probe, path] of Object.entries(probes)) t.equal((await server.request('GET', path)).status, 200, `${probe}: GET ${path} answers 200 (Redis up)`)
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}${String(deployment.spec.template.metadata.annotations['prometheus.io/path'])}`)
  t.equal(metrics.status, 200, 'the Prometheus annotations\' path answers on the metrics listener')
  await metrics.text()
})

t.test('terminationGracePeriodSeconds outlasts the drain and the shutdown', async (t) => {
  const { drainDelayMs, timeoutMs } = config.shutdown
  t.ok(pod.terminationGracePeriodSeconds > (drainDelayMs + timeoutMs) / 1000,
    `${String(pod.terminationGracePeriodSeconds)} s > (drainDelayMs ${drainDelayMs} + timeoutMs ${timeoutMs}) / 1000`)
  t.notOk(container.lifecycle?.preStop, 'no preStop: the app drains on SIGTERM itself (a preStop sleep would add to the grace period)')
})

t.test('a non-root container with a read-only root file system', async (t) => {
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.equal(pod.securityContext.runAsUser, 1000, 'the image\'s node user')
  t.equal(container.securityContext.readOnlyRootFilesystem, true)
  t.equal(container.securityContext.allowPrivilegeEscalation, false)
  t.same(container.securityContext.capabilities.drop, ['ALL'])
})

t.test('memory: requests and limits are derived from the measured memory per connection and limits.connections.perNode', async (t) => {
  const budget = config.limits.connections.perNode
  t.ok(budget > 0, `the ConfigMap caps connections per node (${budget}), the budget the memory is sized for`)
  t.ok(budget <= 10_000, 'within the range the per-connection figure was measured over (5k to 10k)')
  const perConnection = measuredBytesPerConnection()
  const baseline = measuredBaselineBytes()
  const quoted = /\| RSS per idle authenticated connection \| ([\d,]+) B/.exec(readFileSync('deploy/README.md', 'utf8'))
  t.equal(Number(quoted?.[1]?.replace(/,/g, '')), perConnection, 'deploy/README.md sizes with the top of bench/README.md\'s measured range')
  const MI = 1024 ** 2
  // deploy/README.md, "Memory": (RSS at start + budget x RSS per connection) x 1.25, rounded up to 32 Mi.
  const working = baseline + budget * perConnection
  const request = Math.ceil(working * 1.25 / (32 * MI)) * 32 * MI
  const { requests, limits } = container.resources
  t.equal(bytesOf(requests.memory), request, `request ${String(requests.memory)} = ceil((${baseline} + ${budget} x ${perConnection}) x 1.25 / 32 Mi) x 32 Mi`)
  t.equal(bytesOf(limits.memory), 2 * request, `limit ${String(limits.memory)} = twice the request`)
  const heap = /--max-old-space-size=(\d+)/.exec(literalEnv.NODE_OPTIONS ?? '')
  t.ok(heap, 'NODE_OPTIONS sets V8\'s heap limit')
  t.equal(Number(heap?.[1]) * MI, 0.75 * bytesOf(limits.memory), 'the heap limit is 75% of the memory limit')
  t.notOk(limits.cpu, 'no CPU limit: a quota would throttle the reconnections after a peer drains')
  t.ok(requests.cpu, 'a CPU request')
})
