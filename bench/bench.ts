/**
 * `npm run bench`: one JSON document on stdout (also bench/results.json).
 * - check: in-process rule evaluation per admission (all rules), ms, at 1k/10k/50k objects
 * - memory: heap bytes per cached object and RSS (MB) with 50k objects in the view
 * - analyze: wall seconds of `routeguard analyze` over 10k objects in files
 * - http: requests/s and p99 (ms) over HTTPS keep-alive with autocannon (separate process) for
 *   /validate at 50k objects and for a no-op route (POST /noop, same body) on the same server
 * - sync: seconds for the standalone server to load 50k objects from --state and be ready
 * Targets (issues #3, #7): check p99 < 1 ms at 50k; /validate ≥ 70 % of the no-op route's
 * requests/s; ≤ 4 KiB heap per object; analyze of 10k objects < 5 s.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, Agent } from 'undici'
import { stringify } from 'yaml'
import { evaluate } from '../src/engine.js'
import type { K8sObject } from '../src/model/object.js'
import { ClusterView } from '../src/view/view.js'
import { generateCertificates, writeCertificates } from '../src/certs/certs.js'
import { subjects, world } from './world.js'

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const quick = process.argv.includes('--quick')

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

async function autocannon(url: string, connections: number, seconds: number, method: string, body?: string) {
  const args = ['-c', String(connections), '-d', String(seconds), '-j', '-m', method]
  if (body !== undefined) args.push('-H', 'content-type=application/json', '-b', body)
  const env = { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' }
  const r = spawnSync(join('node_modules', '.bin', 'autocannon'), [...args, url], { encoding: 'utf8', env, maxBuffer: 1 << 28 })
  const j = JSON.parse(r.stdout) as { requests: { average: number }; latency: { p99: number }; errors: number; non2xx: number }
  return { rps: Math.round(j.requests.average), p99_ms: j.latency.p99, errors: j.errors, non2xx: j.non2xx }
}

async function httpBench(dir: string, n: number) {
  const certs = join(dir, 'certs')
  writeCertificates(certs, generateCertificates())
  const state = join(dir, 'state.json')
  writeFileSync(state, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: world(n) }))
  const port = 18443 + Math.floor(Math.random() * 1000)
  const t0 = Date.now()
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', String(port), '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key'), '--state', state, '--log-level', 'warn', '--noop-route'], { stdio: 'ignore' })
  const agent = new Agent({ connect: { ca: readFileSync(join(certs, 'ca.crt')) } })
  const base = `https://127.0.0.1:${port}`
  let ready = false
  while (!ready && Date.now() - t0 < 120_000) {
    await new Promise((r) => setTimeout(r, 100))
    ready = await request(`${base}/readyz`, { dispatcher: agent }).then(async (r) => (await r.body.text(), r.statusCode === 200), () => false)
  }
  const syncSeconds = (Date.now() - t0) / 1000
  const subject = subjects()[3]!.object
  const review = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' }, resource: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes' }, name: 'new-route', namespace: 'ns-9', operation: 'CREATE', userInfo: { username: 'bench' }, object: subject, dryRun: true },
  })
  const seconds = quick ? 2 : 5
  const http: Record<string, unknown>[] = []
  for (const c of [2, 16]) {
    const v = await autocannon(`${base}/validate`, c, seconds, 'POST', review)
    const noop = await autocannon(`${base}/noop`, c, seconds, 'POST', review)
    http.push({ connections: c, validate_rps: v.rps, noop_rps: noop.rps, ratio: round(v.rps / noop.rps, 3), validate_p99_ms: v.p99_ms, noop_p99_ms: noop.p99_ms, errors: v.errors + noop.errors, non2xx: v.non2xx + noop.non2xx })
  }
  child.kill('SIGTERM')
  await agent.close()
  return { http, sync: { objects: n, seconds: round(syncSeconds, 2), note: 'standalone --state load until /readyz 200' } }
}

const dir = mkdtempSync(join(tmpdir(), 'routeguard-bench-'))
try {
  const check: Record<string, unknown> = {}
  for (const n of [1000, 10000, 50000]) check[String(n)] = checkBench(n)
  const memory = memoryBench(50000)
  const analyze = analyzeBench(dir, 10000)
  const { http, sync } = await httpBench(dir, 50000)
  const main = http.find((h) => h.connections === 16) ?? http[0]!
  const results = {
    node: process.version,
    check,
    http: { ...main, runs: http, body_bytes: undefined },
    memory,
    analyze,
    sync,
    targets: {
      check_p99_under_1ms_at_50k: (check['50000'] as { p99_ms: number }).p99_ms < 1,
      validate_at_least_70pct_of_noop: http.every((h) => (h.ratio as number) >= 0.7),
      heap_per_object_at_most_4KiB: memory.heap_bytes_per_object <= 4096,
      analyze_10k_under_5s: analyze.wall_s < 5,
    },
  }
  const out = JSON.stringify(results, null, 2)
  writeFileSync('bench/results.json', `${out}\n`)
  process.stdout.write(`${out}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
