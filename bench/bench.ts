/**
 * `npm run bench`: one JSON document on stdout (also bench/results.json).
 * - check: in-process rule evaluation per admission (all rules), ms, at 1k/10k/50k objects
 * - memory: heap bytes per cached object and RSS (MB) with 50k objects in the view
 * - analyze: wall seconds of `routeguard analyze` over 10k objects in files
 * - http: requests/s and p99 (ms) over HTTPS keep-alive with autocannon (separate process) for
 *   /validate at 50k objects and for a no-op route (POST /noop, same body) on the same server;
 *   a warm-up, then 8 rounds of 2.5 s, the two routes back to back in each; ratio = median of
 *   the rounds' ratios; also the server's CPU time per request (µs, from /proc) for each route,
 *   and the mean time /validate spent deciding (µs, from the server's duration histogram).
 *   With `--cpu-prof` the server runs under V8's profiler: its profile is kept in
 *   bench/profiles/http-server.cpuprofile and `http.profile` gives µs per request by category
 *   (our code, JSON parse, Fastify, Node, TLS write, native I/O, GC) for each route
 * - h2: the same paired rounds over HTTP/2 (ALPN h2) to the same server, with bench/h2load.ts
 *   (Node's http2 client, one stream in flight per connection) in place of autocannon
 * - serial_latency: one review at a time on one connection, HTTP/1.1 and h2, p50/p99 (ms) for
 *   /validate and the no-op route: what one write waits for this webhook
 * - sync: seconds for the webhook (cluster mode, own process) to sync 50k objects from the fake
 *   API server and be ready; admission latency with and without 100 watch events/s; heap per
 *   object cached through the informers (in process); `race`: the concurrent-apply race, 100
 *   pairs of conflicting VirtualServices, each pair's two reviews sent together (target: no pair
 *   where both were admitted)
 * - state_load: seconds for the standalone server to load 50k objects from --state and be ready
 * - hostile: worst decide time (ms) per hostile 3 MiB shape, and webhook RSS after 12 MB
 *   apiVersions and 20k distinct kinds (see `hostileBench`)
 * - pods: heap bytes per cached Pod (watched metadata-only) with 20k realistic Pods synced
 *   through the informers from the fake API server
 * - gate (in hostile): issue #23's attacks, each on a fresh process: decide time, peak RSS, /healthz within 100 ms (see `gateBench`)
 * - claims: decision time with --claims on and off (p50, p99) and writes/s sustained (see `claimsBench`)
 * - impact: /validate's decide time with the change impact (traffic warning, RG0106) on and off, at
 *   50k objects, for the usual subjects and a 20-match HTTPRoute on a shared hostname (see `impactBench`)
 * `--only=check|memory|analyze|http|cluster|pods|hostile|gate|claims|impact` runs one section (printed, results.json untouched).
 * Targets (issues #3, #7, #13): check p99 < 1 ms at 50k; /validate ≥ 70 % of the no-op route's
 * requests/s (HTTP/1.1 and h2); ≤ 4 KiB heap per object; analyze of 10k objects < 5 s.
 */
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, Agent } from 'undici'
import { stringify } from 'yaml'
import { evaluate } from '../src/engine.js'
import type { K8sObject } from '../src/model/object.js'
import { ClusterView } from '../src/view/view.js'
import { generateCertificates, writeCertificates } from '../src/certs/certs.js'
import { type CpuProfile, perRequestByCategory, type Window } from './profile.js'
import { subjects, world } from './world.js'
import { type HandlerDeps, mutate, validate } from '../src/admission/handler.js'
import { DEFAULT_POLICY } from '../src/policy.js'
import { admissionImpact } from '../src/impact/impact.js'
import { subsetServiceMutator } from '../src/subsets/mutator.js'
import { crdMaxWorld, type HostileShape, hostileShape, hostileShapeNames } from '../test/support/hostile.js'
import { H2Client } from '../test/support/h2.js'

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const quick = process.argv.includes('--quick')
/** run the http section's server under `--cpu-prof` and say where its time per request goes */
const cpuProf = process.argv.includes('--cpu-prof')

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d

function checkBench(n: number) {
  const view = new ClusterView()
  for (const o of world(n)) view.upsert(structuredClone(o))
  const subs = subjects()
  const iterations = quick ? 2000 : 20000
  const all: number[] = []
  const bySubject: Record<string, { p50_ms: number; p99_ms: number; findings: number }> = {}
  for (const s of subs) {
    for (let i = 0; i < 500; i++) evaluate(structuredClone(s.object), view, { mode: 'admission' }) // warm-up
    const times: number[] = []
    let findings = 0
    for (let i = 0; i < iterations / subs.length; i++) {
      const subject = structuredClone(s.object) // a fresh object per review, as after JSON parsing
      const t0 = process.hrtime.bigint()
      findings = evaluate(subject, view, { mode: 'admission' }).length
      times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    times.sort((a, b) => a - b)
    all.push(...times)
    bySubject[s.name] = { p50_ms: round(pct(times, 50)), p99_ms: round(pct(times, 99)), findings }
  }
  all.sort((a, b) => a - b)
  return { objects: view.size(), p50_ms: round(pct(all, 50)), p99_ms: round(pct(all, 99)), max_ms: round(all[all.length - 1]!), by_subject: bySubject }
}

function memoryBench(n: number) {
  const objs = world(n).map((o) => JSON.stringify(o))
  gc()
  gc()
  const before = process.memoryUsage().heapUsed
  const view = new ClusterView()
  for (const s of objs) view.upsert(JSON.parse(s) as K8sObject)
  gc()
  gc()
  const after = process.memoryUsage().heapUsed
  const result = { objects: view.size(), heap_bytes_per_object: Math.round((after - before) / view.size()), rss_mb: round(process.memoryUsage().rss / 2 ** 20, 1) }
  void view.size()
  return result
}

function writeWorld(dir: string, n: number, files: number): string[] {
  const objs = world(n)
  const per = Math.ceil(objs.length / files)
  const paths: string[] = []
  for (let f = 0; f < files; f++) {
    const p = join(dir, `objects-${f}.yaml`)
    writeFileSync(p, objs.slice(f * per, (f + 1) * per).map((o) => stringify(o)).join('---\n'))
    paths.push(p)
  }
  return paths
}

function analyzeBench(dir: string, n: number) {
  const d = join(dir, 'analyze')
  spawnSync('mkdir', ['-p', d])
  writeWorld(d, n, 10)
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, ['dist/cli.js', 'analyze', '-o', 'json', d], { encoding: 'utf8', maxBuffer: 1 << 30 })
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const findings = r.stdout ? (JSON.parse(r.stdout) as { findings: unknown[] }).findings.length : -1
  return { objects: n, wall_s: round(wall, 3), findings, exit: r.status }
}

/** autocannon in its own process (async: the fake API server may live in this one). */
async function autocannon(url: string, connections: number, seconds: number, method: string, body?: string) {
  const args = ['-c', String(connections), '-d', String(seconds), '-j', '-m', method]
  if (body !== undefined) args.push('-H', 'content-type=application/json', '-b', body)
  const env = { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' }
  const stdout = await new Promise<string>((resolve) => {
    const child = spawn(join('node_modules', '.bin', 'autocannon'), [...args, url], { env, stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', () => resolve(out))
  })
  const j = JSON.parse(stdout) as { requests: { average: number; total: number }; latency: { p99: number; p50: number }; errors: number; non2xx: number }
  return { rps: Math.round(j.requests.average), total: j.requests.total, p50_ms: j.latency.p50, p99_ms: j.latency.p99, errors: j.errors, non2xx: j.non2xx }
}

/** CPU time (user + system, ms) a process has used, from /proc; NaN where there is no /proc. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return NaN
  }
}
const CLOCK_TICKS = 100

/** The median of some numbers (the upper one of an even count, as `pct(…, 50)`). */
function medianOf(values: number[]): number {
  return pct([...values].sort((a, b) => a - b), 50)
}

/** The run with the median requests/s. */
function median<T extends { rps: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.rps - b.rps)[runs.length >> 1]!
}

function sum<T>(runs: T[], key: keyof T): number {
  return runs.reduce((n, r) => n + Number(r[key]), 0)
}

/**
 * Starts `routeguard serve` in its own process with fresh certificates under `dir/name` and
 * waits for /readyz 200. Returns the base URL, an agent trusting the CA, the child, and the
 * seconds it took to become ready (the load/sync time).
 */
async function startServeProcess(dir: string, name: string, args: string[], nodeArgs: string[] = []) {
  const certs = join(dir, name)
  writeCertificates(certs, generateCertificates())
  const port = 18443 + Math.floor(Math.random() * 2000)
  const t0 = Date.now()
  const child = spawn(process.execPath, [...nodeArgs, 'dist/cli.js', 'serve', '--port', String(port), '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key'), '--log-level', 'warn', ...args], { stdio: 'ignore' })
  const agent = new Agent({ connect: { ca: readFileSync(join(certs, 'ca.crt')) } })
  const base = `https://127.0.0.1:${port}`
  let ready = false
  while (!ready && Date.now() - t0 < 120_000) {
    await new Promise((r) => setTimeout(r, 50))
    ready = await request(`${base}/readyz`, { dispatcher: agent }).then(async (r) => (await r.body.text(), r.statusCode === 200), () => false)
  }
  return { base, agent, child, readySeconds: (Date.now() - t0) / 1000, ca: join(certs, 'ca.crt') }
}

/**
 * The load client for one protocol, in its own process: autocannon (HTTP/1.1) or bench/h2load.ts
 * (Node's http2 client, ALPN h2); both report requests/s, p50/p99 (ms), errors and non-2xx.
 */
async function load(protocol: Protocol, url: string, connections: number, seconds: number, body: string, files: { body: string; ca: string }) {
  if (protocol === 'http') return autocannon(url, connections, seconds, 'POST', body)
  const stdout = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'h2load.ts'), url, String(connections), String(seconds), files.body, files.ca], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('exit', () => resolve(out))
  })
  const j = JSON.parse(stdout) as { requests: { average: number; total: number }; latency: { p99: number; p50: number }; errors: number; non2xx: number }
  return { rps: Math.round(j.requests.average), total: j.requests.total, p50_ms: j.latency.p50, p99_ms: j.latency.p99, errors: j.errors, non2xx: j.non2xx }
}

type Protocol = 'http' | 'h2'

/**
 * One request at a time on one kept-alive connection (from this process, which is otherwise
 * idle), as the API server calls a webhook for one write: p50/p99 in ms (µs resolution; autocannon
 * reports whole ms). 200 requests of warm-up, then 3,000 (500 with --quick).
 */
async function serialLatency(protocol: Protocol, url: string, body: string, caFile: string) {
  const ca = readFileSync(caFile)
  const n = quick ? 500 : 3000
  const times: number[] = []
  let send: () => Promise<void>
  let close: () => Promise<void>
  if (protocol === 'http') {
    const agent = new Agent({ connect: { ca }, connections: 1 })
    send = async () => {
      const r = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body })
      await r.body.text()
    }
    close = () => agent.close()
  } else {
    const client = new H2Client(ca)
    send = async () => {
      await client.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    }
    close = () => client.close()
  }
  for (let i = 0; i < 200 + n; i++) {
    const t0 = process.hrtime.bigint()
    await send()
    if (i >= 200) times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  await close()
  times.sort((a, b) => a - b)
  return { p50_ms: round(pct(times, 50), 3), p99_ms: round(pct(times, 99), 3) }
}

async function httpBench(dir: string, n: number) {
  const state = join(dir, 'state.json')
  writeFileSync(state, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: world(n) }))
  const profDir = join(dir, 'cpu-prof')
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []
  const { base, agent, child, readySeconds: syncSeconds, ca } = await startServeProcess(dir, 'certs', ['--state', state, '--noop-route'], nodeArgs)
  const review = reviewBody()
  const files = { body: join(dir, 'review.json'), ca }
  writeFileSync(files.body, review)
  // This machine's speed drifts by tens of per cent from one second to the next (a shared VM):
  // the two routes run back to back in each round (which goes first alternates), the ratio is
  // the median of the rounds' ratios, and the server's CPU time per request is read as well.
  // A warm-up of both routes comes first: the JIT, and the collector still busy with the
  // 50k objects just loaded, would otherwise weigh on the first round only.
  const seconds = quick ? 2 : 2.5
  const rounds = quick ? 1 : 8
  const runs: Record<Protocol, Record<string, unknown>[]> = { http: [], h2: [] }
  const serial: Record<string, unknown> = {}
  const windows: Window[] = []
  const measure = async (protocol: Protocol, path: string, c: number) => {
    const cpu0 = cpuMs(child.pid)
    const from = Number(process.hrtime.bigint() / 1000n)
    const r = await load(protocol, `${base}${path}`, c, seconds, review, files)
    windows.push({ route: `${protocol} ${path}`, from, to: Number(process.hrtime.bigint() / 1000n), requests: r.total })
    return { ...r, cpu_us: r.total ? round(((cpuMs(child.pid) - cpu0) * 1000) / r.total, 1) : NaN }
  }
  for (const protocol of ['http', 'h2'] as const) {
    await measure(protocol, '/validate', 16)
    await measure(protocol, '/noop', 16)
  }
  windows.length = 0
  for (const protocol of ['http', 'h2'] as const) {
    for (const c of [2, 16]) {
      const v: Awaited<ReturnType<typeof measure>>[] = []
      const noop: Awaited<ReturnType<typeof measure>>[] = []
      for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) {
          v.push(await measure(protocol, '/validate', c))
          noop.push(await measure(protocol, '/noop', c))
        } else {
          noop.push(await measure(protocol, '/noop', c))
          v.push(await measure(protocol, '/validate', c))
        }
      }
      const vm = median(v), nm = median(noop)
      const cpu = { validate: medianOf(v.map((r) => r.cpu_us)), noop: medianOf(noop.map((r) => r.cpu_us)) }
      runs[protocol].push({
        connections: c,
        validate_rps: vm.rps,
        noop_rps: nm.rps,
        ratio: round(medianOf(v.map((x, i) => x.rps / noop[i]!.rps)), 3),
        validate_p50_ms: vm.p50_ms,
        validate_p99_ms: vm.p99_ms,
        noop_p50_ms: nm.p50_ms,
        noop_p99_ms: nm.p99_ms,
        server_cpu_us_per_request: { ...cpu, ratio: round(cpu.noop / cpu.validate, 3) },
        rounds: v.map((x, i) => ({ validate_rps: x.rps, noop_rps: noop[i]!.rps, ratio: round(x.rps / noop[i]!.rps, 3), validate_cpu_us: x.cpu_us, noop_cpu_us: noop[i]!.cpu_us })),
        errors: sum(v, 'errors') + sum(noop, 'errors'),
        non2xx: sum(v, 'non2xx') + sum(noop, 'non2xx'),
      })
    }
    // one review at a time on one connection, as the API server calls a webhook for one write:
    // the latency a write pays for this webhook (p50/p99, ms), and the same for the no-op route
    const sv = await serialLatency(protocol, `${base}/validate`, review, files.ca)
    const sn = await serialLatency(protocol, `${base}/noop`, review, files.ca)
    serial[protocol] = { validate_p50_ms: sv.p50_ms, validate_p99_ms: sv.p99_ms, noop_p50_ms: sn.p50_ms, noop_p99_ms: sn.p99_ms, added_p50_ms: round(sv.p50_ms - sn.p50_ms, 3) }
  }
  // the time spent deciding, inside the server (the duration histogram, warm-up included)
  const metrics = await request(`${base}/metrics`, { dispatcher: agent }).then((r) => r.body.text())
  const decided = (suffix: string) => Number(new RegExp(`^routeguard_admission_duration_seconds_${suffix}\\{path="/validate"\\} (\\S+)$`, 'm').exec(metrics)?.[1])
  const validateDecideUs = round((decided('sum') / decided('count')) * 1e6, 1)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  await agent.close()
  const stateLoad = { objects: n, seconds: round(syncSeconds, 2), note: 'standalone --state load until /readyz 200' }
  const result = { http: runs.http, h2: runs.h2, serial, validate_decide_us_mean: validateDecideUs, stateLoad }
  if (!cpuProf) return { ...result, profile: undefined }
  // the server writes its profile as it exits
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`--cpu-prof: the server wrote no profile in ${profDir}`)
  mkdirSync('bench/profiles', { recursive: true })
  const kept = join('bench', 'profiles', 'http-server.cpuprofile')
  copyFileSync(join(profDir, file), kept)
  const profile = { file: kept, note: 'server CPU µs per request by category, all rounds (the profiler itself adds some)', by_route: perRequestByCategory(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile, windows) }
  return { ...result, profile }
}

/**
 * Cluster mode against the fake API server (in this process): the webhook in its own process
 * syncs `n` objects (seconds until /readyz 200); admission p50/p99 with no watch traffic and with
 * 100 watch events/s; and, in process, heap bytes per cached object with informers.
 */
async function clusterBench(dir: string, n: number) {
  const { FakeApiServer } = await import('../test/fake-apiserver.js')
  const api = new FakeApiServer()
  await api.start()
  const objs = world(n)
  api.seed(objs as never)
  const kubeconfig = join(dir, 'kubeconfig.json')
  writeFileSync(kubeconfig, JSON.stringify(api.kubeconfig()))
  const { base, agent, child, readySeconds: syncSeconds } = await startServeProcess(dir, 'cluster-certs', ['--kubeconfig', kubeconfig, '--no-audit'])
  const review = reviewBody()
  const seconds = quick ? 2 : 5
  const quiet = await autocannon(`${base}/validate`, 2, seconds, 'POST', review)
  let i = 0
  const churn = setInterval(() => {
    const o = structuredClone(objs[8 + (i++ % (objs.length - 8))]!) as { metadata: Record<string, unknown> }
    o.metadata.labels = { churn: String(i) }
    api.put(o as never)
  }, 10)
  const busy = await autocannon(`${base}/validate`, 2, seconds, 'POST', review)
  clearInterval(churn)
  const race = await raceBench(base, agent)
  child.kill('SIGTERM')
  await agent.close()

  // heap per cached object, in process, through the real informers
  const { ClusterSync } = await import('../src/cluster/informers.js')
  const { loadKubeConfig } = await import('../src/cluster/client.js')
  gc()
  gc()
  const before = process.memoryUsage().heapUsed
  const view = new ClusterView()
  const sync = new ClusterSync(loadKubeConfig(kubeconfig)!, view, { discoveryIntervalMs: 3_600_000 })
  await sync.start()
  while (sync.notReady()) await new Promise((r) => setTimeout(r, 50))
  gc()
  gc()
  const heapPerObject = Math.round((process.memoryUsage().heapUsed - before) / view.size())
  await sync.stop()
  await api.stop()
  return {
    sync: { objects: n, seconds: round(syncSeconds, 2), events_applied_during_load: i },
    informer_heap_bytes_per_object: heapPerObject,
    race,
    admission_under_watch_load: { events_per_second: 100, quiet_p50_ms: quiet.p50_ms, quiet_p99_ms: quiet.p99_ms, busy_p50_ms: busy.p50_ms, busy_p99_ms: busy.p99_ms, quiet_rps: quiet.rps, busy_rps: busy.rps },
  }
}

/**
 * Heap per cached Pod (bytes): `n` realistic Pods (labels, kilobytes of annotations, a spec with
 * containers and env) in the fake API server, synced through the real informers, which ask for
 * PartialObjectMetadata and keep name, namespace and labels. Target: at most 4 KiB per Pod.
 */
async function podsBench(n: number) {
  const { FakeApiServer, CORE_RESOURCES } = await import('../test/fake-apiserver.js')
  const { ClusterSync } = await import('../src/cluster/informers.js')
  const { loadKubeConfig } = await import('../src/cluster/client.js')
  const api = new FakeApiServer([...CORE_RESOURCES])
  await api.start()
  api.seed(
    Array.from({ length: n }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `app-${i % 500}-7d9f8c6b5-${i.toString(36).padStart(5, 'x')}`,
        namespace: `ns-${i % 50}`,
        labels: { app: `app-${i % 500}`, version: `v${i % 3}`, 'pod-template-hash': '7d9f8c6b5', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': `app-${i % 500}` },
        annotations: { 'sidecar.istio.io/status': JSON.stringify({ initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: ['istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'], imagePullSecrets: null, revision: 'default' }), 'prometheus.io/scrape': 'true', 'kubectl.kubernetes.io/restartedAt': '2026-11-30T10:00:00Z' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app-${i % 500}-7d9f8c6b5`, uid: `uid-${i}`, controller: true }],
      },
      spec: { nodeName: `node-${i % 20}`, containers: [{ name: 'app', image: `registry.example.com/app-${i % 500}:1.2.3`, env: Array.from({ length: 10 }, (_, e) => ({ name: `ENV_${e}`, value: 'x'.repeat(40) })) }, { name: 'istio-proxy', image: 'istio/proxyv2:1.28.0', args: ['proxy', 'sidecar'] }] },
    })) as never,
  )
  const kubeconfig = join(dir, 'pods-kubeconfig.json')
  writeFileSync(kubeconfig, JSON.stringify(api.kubeconfig()))
  gc()
  gc()
  const before = process.memoryUsage().heapUsed
  const view = new ClusterView()
  const sync = new ClusterSync(loadKubeConfig(kubeconfig)!, view, { discoveryIntervalMs: 3_600_000 })
  const t0 = performance.now()
  await sync.start()
  while (!sync.status().find((k) => k.kind === '/Pod')?.synced || view.size('/Pod') < n) await new Promise((r) => setTimeout(r, 50))
  const seconds = (performance.now() - t0) / 1000
  gc()
  gc()
  const perPod = Math.round((process.memoryUsage().heapUsed - before) / view.size('/Pod'))
  const metadataOnly = api.requests.some((r) => r.path === '/api/v1/pods' && r.accept?.includes('as=PartialObjectMetadataList'))
  await sync.stop()
  await api.stop()
  return { pods: n, sync_seconds: round(seconds, 2), heap_bytes_per_pod: perPod, listed_as_partial_object_metadata: metadataOnly }
}

/**
 * The concurrent-apply race (issue #13): `pairs` pairs of conflicting VirtualServices (one host
 * per pair), both reviews of a pair sent at the same moment on separate connections, all pairs
 * at once; neither object is ever stored, so only the webhook's pending writes stand between
 * them. Counts the pairs where both were admitted (target 0) and the p50/p99 (ms) of the reviews.
 */
async function raceBench(base: string, agent: Agent, pairs = 100) {
  const times: number[] = []
  const one = async (name: string, host: string) => {
    const t0 = process.hrtime.bigint()
    const r = await request(`${base}/validate`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: `race-${name}`, kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, operation: 'CREATE', namespace: 'race', object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: 'race' }, spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }] } } },
      }),
    })
    const body = JSON.parse(await r.body.text()) as { response: { allowed: boolean } }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    return body.response.allowed
  }
  const results = await Promise.all(Array.from({ length: pairs }, (_, i) => Promise.all([one(`race-${i}-a`, `race-${i}.example.com`), one(`race-${i}-b`, `race-${i}.example.com`)])))
  times.sort((a, b) => a - b)
  return { pairs, both_admitted: results.filter(([a, b]) => a && b).length, none_admitted: results.filter(([a, b]) => !a && !b).length, p50_ms: round(pct(times, 50), 2), p99_ms: round(pct(times, 99), 2) }
}

function reviewBody(): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' }, resource: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes' }, name: 'new-route', namespace: 'ns-9', operation: 'CREATE', userInfo: { username: 'bench' }, object: subjects()[3]!.object, dryRun: true },
  })
}

/**
 * Hostile shapes (test/support/hostile.ts, 3 MiB each): decide times, ms, per shape for
 * /validate and /mutate (in process: JSON parse excluded, as the server's own histogram
 * measures), against a view of 10k objects, after ordinary reviews have warmed the code: the
 * first review of the shape (`first_ms`, which also compiles what only such shapes reach) and
 * the worst of the next five (each includes any GC pause it meets); target < 250 ms each.
 * Then the memory of a webhook process (RSS, MB, from /proc) after 1,000 reviews whose object
 * carries a distinct 12 MB apiVersion (over the 8 MiB body limit), 1,000 with 7 MB ones (read,
 * parsed, refused), and after 20k reviews of distinct kinds; target: within
 * 64 MB of its RSS before them. `--quick` sends 100 and 2,000.
 */
async function hostileBench(dir: string) {
  const view = new ClusterView()
  for (const o of world(10_000)) view.upsert(structuredClone(o))
  const deps: HandlerDeps = { view, policy: DEFAULT_POLICY, failurePolicy: 'Fail' }
  const mutators = [subsetServiceMutator(undefined)]
  // a server that has answered ordinary reviews: their code paths are compiled
  for (let i = 0; i < 300; i++) {
    for (const s of subjects()) {
      const o = structuredClone(s.object)
      const [g, v] = String(o.apiVersion).split('/')
      const r = { uid: 'w', kind: { group: g!, version: v!, kind: String(o.kind) }, operation: 'CREATE' as const, object: o, dryRun: true }
      validate(r, deps)
      await mutate(r, deps, mutators)
    }
  }
  const decide: Record<string, { bytes: number; first_ms: number; validate_worst_ms: number; mutate_worst_ms: number; allowed: boolean }> = {}
  for (const name of hostileShapeNames()) {
    // one shape alive at a time: the bench's heap should be the view and the review, as a server's is
    let shape: HostileShape | undefined = hostileShape(name)
    const text = JSON.stringify(shape.object)
    const [group, version] = String(shape.object.apiVersion).split('/')
    const kind = String(shape.object.kind)
    shape = undefined
    gc()
    const req = () => ({ uid: 'u', kind: { group: group!, version: version!, kind }, operation: 'CREATE' as const, object: JSON.parse(text), dryRun: true })
    let v = 0
    let m = 0
    let allowed = true
    let first = 0
    for (let i = 0; i < (quick ? 3 : 6); i++) {
      const r1 = req()
      const t0 = process.hrtime.bigint()
      allowed = validate(r1, deps).response.allowed
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      // the first review of a shape also compiles the code only such shapes reach
      if (i === 0) first = ms
      else v = Math.max(v, ms)
      const r2 = req()
      const t1 = process.hrtime.bigint()
      await mutate(r2, deps, mutators)
      m = Math.max(m, Number(process.hrtime.bigint() - t1) / 1e6)
    }
    decide[name] = { bytes: text.length, first_ms: round(first, 1), validate_worst_ms: round(v, 1), mutate_worst_ms: round(m, 1), allowed }
  }
  const worst = Math.max(...Object.values(decide).flatMap((d) => [d.first_ms, d.validate_worst_ms, d.mutate_worst_ms]))

  const server = await startServeProcess(dir, 'hostile-certs', [])
  const rss = () => {
    const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8')
    return round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024, 1)
  }
  const send = async (body: string) => {
    try {
      const r = await request(`${server.base}/validate`, { method: 'POST', dispatcher: server.agent, headers: { 'content-type': 'application/json' }, body })
      await r.body.text()
      return String(r.statusCode)
    } catch (e) {
      // over the body limit the server may answer 413 and close before the client has written all
      return (e as { code?: string }).code ?? 'error'
    }
  }
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'm', namespace: 'default' }, spec: { hosts: ['m'] } }
  const envelope = (object: unknown, kind = { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }) =>
    JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', kind, operation: 'CREATE', object, dryRun: true } })
  for (let i = 0; i < 50; i++) await send(envelope(vs))
  const baseline = rss()
  // 12 MB: over the 8 MiB body limit; 7 MB: read and parsed, then refused (400)
  const apiVersions = async (megabytes: number) => {
    const pad = 'x'.repeat(megabytes * 1024 * 1024)
    const statuses: Record<string, number> = {}
    for (let i = 0; i < nApi; i++) {
      const code = await send(envelope({ ...vs, apiVersion: `networking.istio.io/v${i}${pad}` }))
      statuses[code] = (statuses[code] ?? 0) + 1
    }
    return { statuses, rss_mb: rss() }
  }
  const nApi = quick ? 100 : 1000
  const api12 = await apiVersions(12)
  const api7 = await apiVersions(7)
  const afterApiVersions = Math.max(api12.rss_mb, api7.rss_mb)
  const nKinds = quick ? 2000 : 20_000
  for (let i = 0; i < nKinds; i++) {
    const kind = { group: 'example.com', version: 'v1', kind: `Kind${i}` }
    await send(envelope({ apiVersion: 'example.com/v1', kind: `Kind${i}`, metadata: { name: 'x', namespace: 'default' } }, kind))
  }
  const afterKinds = rss()
  const metricsBytes = await request(`${server.base}/metrics`, { dispatcher: server.agent }).then((r) => r.body.text()).then((t) => t.length)
  server.child.kill('SIGKILL')
  await server.agent.close()
  return {
    decide,
    worst_decide_ms: worst,
    memory: {
      baseline_rss_mb: baseline,
      distinct_api_versions: nApi,
      after_12MB_api_versions: api12,
      after_7MB_api_versions: api7,
      distinct_kinds: nKinds,
      after_kinds_rss_mb: afterKinds,
      metrics_bytes: metricsBytes,
    },
    targets: {
      every_shape_under_250ms: worst < 250,
      rss_within_64MB_of_baseline: afterApiVersions - baseline <= 64 && afterKinds - baseline <= 64,
    },
  }
}

/**
 * The attacks of issue #23, each against a fresh webhook process (so that peak RSS is the
 * attack's): the decide time of the attacked review (worst of 3, ms, client-side round trip),
 * the process's peak RSS during it (MB, VmRSS sampled every 10 ms), and whether /healthz
 * answered within 100 ms every time it was asked during it (asked every 20 ms). Tenant regex
 * shapes at n = 28 and n = 40.
 */
/** Asks argv[1] (/healthz) every 20 ms with the CA in argv[2]; prints `ready`, then the worst latency (ms) when stdin closes. */
const HEALTH_PROBER = `
import https from 'node:https'
import { readFileSync } from 'node:fs'
const [url, caFile] = process.argv.slice(1)
const agent = new https.Agent({ keepAlive: true, ca: readFileSync(caFile) })
let worst = 0, stop = false
process.stdin.on('end', () => (stop = true)).resume()
process.stdout.write('ready\\n')
while (!stop) {
  const t0 = performance.now()
  await new Promise((r) => https.get(url, { agent }, (res) => { res.resume(); res.on('end', r) }).on('error', r))
  worst = Math.max(worst, performance.now() - t0)
  await new Promise((r) => setTimeout(r, 20))
}
process.stdout.write(String(worst) + '\\n')
process.exit(0)
`

async function gateBench(dir: string) {
  const out: Record<string, { decide_worst_ms: number; peak_rss_mb: number; healthz_max_ms: number; healthz_within_100ms: boolean; statuses: Record<string, number> }> = {}
  const envelope = (object: unknown, o: { dryRun?: boolean } = {}) => {
    const obj = object as { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }
    const [group, version] = obj.apiVersion.split('/')
    return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: `u${Math.random()}`, kind: { group, version, kind: obj.kind }, name: obj.metadata.name, namespace: obj.metadata.namespace, operation: 'CREATE', userInfo: { username: 'bench' }, object, dryRun: o.dryRun === true } })
  }
  const gw = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'shared', namespace: 'infra' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } }
  const route = (ns: string, name: string, rules: unknown[]) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: ns }, spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules } })
  const attacks: { name: string; setup?: string[]; attack: (send: (path: string, body: string | Buffer) => Promise<string>, base: string) => Promise<string[]> }[] = []
  for (const n of [28, 40]) {
    const prefix = `/${'a'.repeat(n)}`
    attacks.push({
      name: `tenant-path-regex-n${n}`,
      setup: [envelope(gw), envelope(route('team-a', 'evil', [{ matches: [{ path: { type: 'RegularExpression', value: '/(a+)+b' } }], backendRefs: [{ name: 'a', port: 80 }] }, { matches: [{ path: { type: 'PathPrefix', value: prefix } }], backendRefs: [{ name: 'a', port: 80 }] }]))],
      attack: async (send) => [await send('/validate', envelope(route('team-b', 'victim', [{ matches: [{ path: { type: 'PathPrefix', value: prefix } }], backendRefs: [{ name: 'b', port: 80 }] }]), { dryRun: true }))],
    })
  }
  const vs = (name: string, http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: 'default' }, spec: { hosts: [name], http } })
  // bodies built once, before anything is timed
  const many = envelope(vs('many', [{ match: Array.from({ length: 950_000 }, () => ({})), route: [{ destination: { host: 'many' } }] }]))
  const rules = envelope(vs('slow', Array.from({ length: 60_000 }, () => ({ route: [{ destination: { host: 'slow' } }] }))))
  attacks.push({ name: 'vs-950k-empty-matches', attack: async (send) => [await send('/validate', many)] })
  attacks.push({ name: 'vs-60k-rules', attack: async (send) => [await send('/validate', rules)] })
  const crd = crdMaxWorld()
  attacks.push({ name: 'httproute-crd-max-on-32x64-listeners', setup: crd.gateways.map((g) => envelope(g)), attack: async (send) => [await send('/validate', envelope(crd.route, { dryRun: true }))] })
  const empties = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"group":"networking.istio.io","version":"v1","kind":"VirtualService"},"operation":"CREATE","object":{"spec":{"x":[${'{},'.repeat(2_700_000)}{}]}}}}`
  attacks.push({ name: '8-concurrent-7.9MiB-empty-objects', attack: async (send) => Promise.all(Array.from({ length: 8 }, () => send('/validate', empties))) })
  const json79 = Buffer.from(JSON.stringify({ x: 'y'.repeat(7.9 * 1024 * 1024) }))
  attacks.push({ name: '40-parallel-7.9MiB-to-/nope', attack: async (send) => Promise.all(Array.from({ length: 40 }, () => send('/nope', json79))) })
  for (const a of attacks) {
    const server = await startServeProcess(dir, `gate-${a.name}`, [])
    const send = async (path: string, body: string | Buffer) => {
      try {
        const r = await request(`${server.base}${path}`, { method: 'POST', dispatcher: server.agent, headers: { 'content-type': 'application/json' }, body, headersTimeout: 60_000, bodyTimeout: 60_000 })
        const text = await r.body.text()
        return r.statusCode === 200 && /too large to judge/.test(text) ? '200 too large' : String(r.statusCode)
      } catch (e) {
        return (e as { code?: string }).code ?? 'error'
      }
    }
    for (const body of a.setup ?? []) await send('/validate', body)
    let peak = 0
    let healthMax = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))
        if (m) peak = Math.max(peak, Number(m[1]) / 1024)
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    // /healthz from another process: this one is busy sending the attack (TLS, large bodies)
    const prober = spawn(process.execPath, ['--input-type=module', '-e', HEALTH_PROBER, `${server.base}/healthz`, server.ca], { stdio: ['pipe', 'pipe', 'inherit'] })
    let proberOut = ''
    prober.stdout!.on('data', (d) => (proberOut += d))
    await new Promise<void>((r) => prober.stdout!.once('data', () => r()))
    const health = new Promise<void>((resolve) => prober.on('exit', () => resolve()))
    let worst = 0
    const statuses: Record<string, number> = {}
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      for (const st of await a.attack(send, server.base)) statuses[st] = (statuses[st] ?? 0) + 1
      worst = Math.max(worst, performance.now() - t0)
    }
    sampling = false
    prober.stdin!.end()
    await Promise.all([sampler, health])
    healthMax = Number(proberOut.trim().split('\n').at(-1))
    server.child.kill('SIGKILL')
    await server.agent.close()
    out[a.name] = { decide_worst_ms: round(worst, 1), peak_rss_mb: round(peak, 1), healthz_max_ms: round(healthMax, 1), healthz_within_100ms: healthMax <= 100, statuses }
  }
  return out
}

/**
 * Claims (issue #24), against the loopback API server: the decision time a review that holds a
 * conflict key pays with `--claims` (one Lease create) against the same review without, p50 and
 * p99 per review (ms, client round trip, one at a time, each a new VirtualService host), and
 * writes per second sustained by 8 concurrent clients for a few seconds. A review without keys
 * (dryRun) pays nothing either way.
 */
async function claimsBench(dir: string) {
  const { FakeApiServer } = await import('../test/fake-apiserver.js')
  const api = new FakeApiServer()
  await api.start()
  const kubeconfig = join(dir, 'kubeconfig-claims.json')
  writeFileSync(kubeconfig, JSON.stringify(api.kubeconfig()))
  const body = (i: number, tag: string) => JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `u-${tag}-${i}`, kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, name: `vs-${tag}-${i}`, namespace: `bench-${i % 50}`, operation: 'CREATE', userInfo: { username: `bench-${i % 50}` }, object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `vs-${tag}-${i}`, namespace: `bench-${i % 50}` }, spec: { hosts: [`h-${tag}-${i}.bench.svc.cluster.local`], http: [{ route: [{ destination: { host: `h-${tag}-${i}.bench.svc.cluster.local` } }] }] } }, dryRun: false },
  })
  const out: Record<string, { p50_ms: number; p99_ms: number; writes_per_second: number; denied_or_errored: number }> = {}
  for (const mode of ['off', 'on'] as const) {
    const server = await startServeProcess(dir, `claims-${mode}`, ['--kubeconfig', kubeconfig, '--no-audit', ...(mode === 'on' ? ['--claims'] : [])])
    const n = quick ? 200 : 1000
    const times: number[] = []
    let bad = 0
    const send = async (i: number, tag: string) => {
      const r = await request(`${server.base}/validate`, { method: 'POST', dispatcher: server.agent, headers: { 'content-type': 'application/json' }, body: body(i, tag) })
      const text = await r.body.text()
      if (!text.includes('"allowed":true')) {
        if (!bad) process.stderr.write(`claims bench: not admitted: ${text.slice(0, 300)}\n`)
        bad++
      }
    }
    for (let i = 0; i < 50; i++) await send(i, `warm-${mode}`)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await send(i, `serial-${mode}`)
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    const seconds = quick ? 2 : 5
    let done = 0
    const until = performance.now() + seconds * 1000
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        await send(i * 8 + w, `load-${mode}`)
        done++
      }
    }))
    server.child.kill('SIGKILL')
    await server.agent.close()
    out[`claims_${mode}`] = { p50_ms: round(times[Math.floor(n * 0.5)]!, 2), p99_ms: round(times[Math.floor(n * 0.99)]!, 2), writes_per_second: Math.round(done / seconds), denied_or_errored: bad }
  }
  // how long the informers take to deliver a stored object (what --pending-ttl must outlast), ms
  const kc = (await import('../src/cluster/client.js')).loadKubeConfig(kubeconfig)!
  const { ClusterSync } = await import('../src/cluster/informers.js')
  const view = new ClusterView()
  const sync = new ClusterSync(kc, view, {})
  void sync.start()
  while (sync.notReady() !== undefined) await new Promise((r) => setTimeout(r, 20))
  const delays: number[] = []
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now()
    api.put({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `watch-${i}`, namespace: 'bench' }, spec: { hosts: [`watch-${i}`] } } as never)
    while (!view.get('networking.istio.io/VirtualService', 'bench', `watch-${i}`)) await new Promise((r) => setImmediate(r))
    delays.push(performance.now() - t0)
  }
  await sync.stop()
  delays.sort((a, b) => a - b)
  await api.stop()
  return { ...out, watch_delivery_ms: { p50: round(delays[100]!, 2), p99: round(delays[198]!, 2), max: round(delays[199]!, 2) }, added_p50_ms: round(out.claims_on!.p50_ms - out.claims_off!.p50_ms, 2), added_p99_ms: round(out.claims_on!.p99_ms - out.claims_off!.p99_ms, 2) }
}

/**
 * Section `impact` (issue #25): what tracing the requests a write moves adds to a decision, at
 * `n` objects: /validate's decide time (in process, the handler alone) with the impact on and off
 * for the usual subjects and a typical change (one HTTPRoute with 20 matches on a hostname 25
 * other routes share, under their prefixes: it takes requests from them), p50/p99 ms each, and
 * the classes traced and moved. Target: ≤ 20 ms added at p99.
 */
function impactBench(n: number) {
  const view = new ClusterView()
  for (const o of world(n)) view.upsert(structuredClone(o))
  const typical = {
    name: 'httproute-20-matches-hot',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'typical', namespace: 'ns-9' },
      spec: {
        parentRefs: [{ name: 'gw-1', namespace: 'infra' }],
        hostnames: ['hot1.example.com'],
        rules: Array.from({ length: 4 }, (_, r) => ({
          // under the prefixes of the 25 routes already on the hostname: it takes requests from them
          matches: Array.from({ length: 5 }, (_, m) => ({ path: { type: m % 2 ? 'Exact' : 'PathPrefix', value: `/team-${r * 5 + m}/v2` }, ...(m === 4 ? { headers: [{ name: 'x-tier', value: `t${r}` }] } : {}) })),
          backendRefs: [{ name: `svc-${r}`, port: 8080 }],
        })),
      },
    } as K8sObject,
  }
  const cases = [...subjects(), typical]
  const iterations = quick ? 100 : 400
  const out: Record<string, { off_p50_ms: number; off_p99_ms: number; on_p50_ms: number; on_p99_ms: number; added_p99_ms: number; classes: number; moved: number }> = {}
  for (const c of cases) {
    const [g, v] = String(c.object.apiVersion).split('/')
    const req = () => ({ uid: 'i', kind: { group: g!, version: v!, kind: String(c.object.kind) }, operation: 'CREATE' as const, object: structuredClone(c.object), dryRun: true })
    const time = (deps: HandlerDeps) => {
      for (let i = 0; i < 50; i++) validate(req(), deps)
      const times: number[] = []
      for (let i = 0; i < iterations; i++) {
        const r = req()
        const t0 = process.hrtime.bigint()
        validate(r, deps)
        times.push(Number(process.hrtime.bigint() - t0) / 1e6)
      }
      return times.sort((a, b) => a - b)
    }
    const off = time({ view, policy: DEFAULT_POLICY, failurePolicy: 'Fail', trafficImpact: false })
    const on = time({ view, policy: DEFAULT_POLICY, failurePolicy: 'Fail' })
    const impact = admissionImpact(view, { after: structuredClone(c.object) })
    out[c.name] = {
      off_p50_ms: round(pct(off, 50)),
      off_p99_ms: round(pct(off, 99)),
      on_p50_ms: round(pct(on, 50)),
      on_p99_ms: round(pct(on, 99)),
      added_p99_ms: round(pct(on, 99) - pct(off, 99)),
      classes: impact.evaluated,
      moved: impact.moves.length,
    }
  }
  const worst = Math.max(...Object.values(out).map((x) => x.added_p99_ms))
  return { objects: view.size(), by_subject: out, worst_added_p99_ms: round(worst), targets: { impact_added_p99_at_most_20ms_at_50k: worst <= 20 } }
}

const onlyArg = process.argv.find((a) => a.startsWith('--only='))
const dir = mkdtempSync(join(tmpdir(), 'routeguard-bench-'))
/** The parts of the run, each on its own for `--only=NAME`. */
const sections = {
  check: () => Object.fromEntries([1000, 10000, 50000].map((n) => [String(n), checkBench(n)])) as Record<string, ReturnType<typeof checkBench>>,
  memory: () => memoryBench(50000),
  analyze: () => analyzeBench(dir, 10000),
  http: () => httpBench(dir, 50000),
  cluster: () => clusterBench(dir, 50000),
  pods: () => podsBench(20000),
  hostile: () => hostileBench(dir),
  gate: () => gateBench(dir),
  claims: () => claimsBench(dir),
  impact: () => impactBench(50000),
}
try {
  if (onlyArg) {
    // one section, for working on it: printed, not written to bench/results.json
    const section = onlyArg.slice('--only='.length) as keyof typeof sections
    if (!Object.hasOwn(sections, section)) throw new Error(`--only: one of ${Object.keys(sections).join(', ')}`)
    process.stdout.write(`${JSON.stringify({ [section]: await sections[section]() }, null, 2)}\n`)
  } else {
    await fullRun()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

async function fullRun() {
  const check = sections.check()
  const memory = sections.memory()
  const analyze = sections.analyze()
  const { http, h2, serial, validate_decide_us_mean, stateLoad, profile } = await sections.http()
  const cluster = await sections.cluster()
  const pods = await sections.pods()
  const hostile = { ...(await sections.hostile()), gate: await sections.gate() }
  const claims = await sections.claims()
  const impact = sections.impact()
  const main = http.find((h) => h.connections === 16) ?? http[0]!
  const mainH2 = h2.find((h) => h.connections === 16) ?? h2[0]!
  const results = {
    node: process.version,
    check,
    http: { ...main, runs: http, validate_decide_us_mean, profile },
    h2: { ...mainH2, runs: h2 },
    serial_latency: serial,
    memory,
    analyze,
    sync: cluster.sync,
    state_load: stateLoad,
    cluster: { informer_heap_bytes_per_object: cluster.informer_heap_bytes_per_object, admission_under_watch_load: cluster.admission_under_watch_load },
    pods,
    hostile,
    claims,
    impact,
    targets: {
      ...hostile.targets,
      ...impact.targets,
      sync_50k_under_10s: cluster.sync.seconds < 10,
      check_p99_under_1ms_at_50k: check['50000']!.p99_ms < 1,
      validate_at_least_70pct_of_noop: http.every((h) => (h.ratio as number) >= 0.7),
      h2_validate_at_least_70pct_of_noop: h2.every((h) => (h.ratio as number) >= 0.7),
      heap_per_object_at_most_4KiB: memory.heap_bytes_per_object <= 4096,
      heap_per_pod_at_most_4KiB: pods.heap_bytes_per_pod <= 4096,
      analyze_10k_under_5s: analyze.wall_s < 5,
    },
  }
  const out = JSON.stringify(results, null, 2)
  writeFileSync('bench/results.json', `${out}\n`)
  process.stdout.write(`${out}\n`)
}
