/**
 * Hostile input and lifecycle, over real TLS: generated garbage never gets a 5xx or a hang,
 * slow and idle clients are cut off while others are served, certificates rotate under load
 * without a failed request, SIGTERM drains, two processes elect one auditor.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type TLSSocket } from 'node:tls'
import autocannon from 'autocannon'
import fc from 'fast-check'
import t from 'tap'
import { generateCertificates, writeCertificates } from '../src/certs/certs.js'
import { freePort, eventually, get, post, review, startTestServer, tempDir, tlsAgent, virtualService, fakeCluster } from './helpers.js'

const KINDS: [string, string][] = [
  ['networking.istio.io/v1', 'VirtualService'],
  ['networking.istio.io/v1', 'Gateway'],
  ['networking.istio.io/v1', 'DestinationRule'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  ['gateway.networking.k8s.io/v1', 'GRPCRoute'],
  ['gateway.networking.k8s.io/v1', 'Gateway'],
]

function deep(depth: number): unknown {
  let v: unknown = 'bottom'
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { n: v }
  return v
}

const regexBombs = ['(a+)+$', '^(a|aa)+$', '(.*a){20}', '([a-zA-Z]+)*$', `${'('.repeat(500)}a${')'.repeat(500)}`]

/** Routing-shaped objects with every field liable to be the wrong type, huge, unicode or hostile. */
const hostile = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue() },
  { weight: 8, arbitrary: fc.constant(null) },
  { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 8, arbitrary: fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 20 }) },
  { weight: 8, arbitrary: fc.constantFrom(...regexBombs).map((r) => ({ regex: r })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => 'x'.repeat(n * 100_000)) },
  { weight: 2, arbitrary: fc.integer({ min: 50, max: 3000 }).map(deep) },
)

const routingObject = fc.record(
  {
    kind: fc.constantFrom(...KINDS),
    name: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), hostile),
    namespace: fc.oneof(fc.constantFrom('default', 'shop', ''), hostile),
    hosts: fc.oneof(fc.array(fc.oneof(fc.constantFrom('reviews', '*', '*.example.com', 'a.example.com', 'ünïcødé.例え.jp', '*foo.com', ''), fc.string({ unit: 'grapheme' })), { maxLength: 8 }), hostile),
    manyHosts: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    gateways: fc.oneof(fc.array(fc.constantFrom('mesh', 'gw', 'istio-system/gw', 'a.b', '/'), { maxLength: 3 }), hostile),
    http: fc.oneof(
      fc.array(fc.record({ match: fc.oneof(fc.array(fc.record({ uri: fc.oneof(fc.record({ prefix: fc.string() }), fc.record({ regex: fc.constantFrom(...regexBombs) }), hostile) }), { maxLength: 3 }), hostile), route: hostile }), { maxLength: 4 }),
      hostile,
    ),
    parentRefs: fc.oneof(fc.array(fc.record({ name: fc.constantFrom('gw', 'svc'), kind: fc.constantFrom('Gateway', 'Service', undefined), group: fc.constantFrom('', undefined), port: fc.oneof(fc.integer(), hostile), sectionName: fc.oneof(fc.string(), hostile) }), { maxLength: 3 }), hostile),
    hostnames: fc.oneof(fc.array(fc.constantFrom('*.example.com', 'a.example.com', '', '*'), { maxLength: 4 }), hostile),
    rules: fc.oneof(fc.array(fc.record({ matches: fc.oneof(fc.array(fc.record({ path: hostile, headers: hostile, method: hostile }), { maxLength: 3 }), hostile) }), { maxLength: 4 }), hostile),
    servers: fc.oneof(fc.array(fc.record({ port: fc.oneof(fc.record({ number: fc.integer() }), hostile), hosts: hostile, bind: hostile }), { maxLength: 3 }), hostile),
    spec: fc.constantFrom('normal', 'null', 'string', 'array'),
  },
  { requiredKeys: ['kind', 'spec'] },
)

function toObject(g: any): any {
  const [apiVersion, kind] = g.kind
  const spec =
    g.spec === 'null' ? null : g.spec === 'string' ? 'spec' : g.spec === 'array' ? [1, 2] : {
      hosts: g.manyHosts ? Array.from({ length: 10_000 }, (_, i) => `h${i}.example.com`) : g.hosts,
      gateways: g.gateways,
      http: g.http,
      parentRefs: g.parentRefs,
      hostnames: g.hostnames,
      rules: g.rules,
      servers: g.servers,
      selector: { istio: 'ingressgateway' },
    }
  return { apiVersion, kind, metadata: { name: g.name, namespace: g.namespace }, spec }
}

/** Envelopes: mostly well-formed with a hostile object, sometimes a broken envelope. */
const reviewArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(routingObject, fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), fc.boolean()).map(([g, op, dryRun]) => {
    const obj = toObject(g)
    const r = review({ ...obj, metadata: { name: 'x', namespace: 'y' } }, { operation: op as 'CREATE', dryRun })
    r.request.object = op === 'DELETE' ? null : obj
    r.request.oldObject = op === 'CREATE' ? null : obj
    return r
  }) },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.record({ apiVersion: fc.constantFrom('admission.k8s.io/v1', 'x'), kind: fc.constantFrom('AdmissionReview', 7), request: fc.oneof(hostile, fc.record({ uid: hostile, kind: hostile, operation: hostile })) }) },
)

t.test('10,000 generated AdmissionReviews: never a 5xx, and the server keeps serving', async (t) => {
  const s = await startTestServer(t)
  // a populated view, so that rules have partners to compare against
  for (let i = 0; i < 200; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => post(s.agent, `${s.url}/validate`, review(virtualService('default', `seed-${i + k}`, [`h${i + k}.example.com`, 'reviews'])))))
  let count = 0
  const statuses = new Map<number, number>()
  const failures: string[] = []
  // 8 reviews in flight at a time, as an API server with several writers sends them; each answer
  // is checked when it arrives and every failure is kept (with its body's start) for the report
  const inFlight = new Set<Promise<void>>()
  const send = async (body: unknown, path: string) => {
    try {
      const r = await post(s.agent, `${s.url}${path}`, body)
      count++
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      if (r.status >= 500) failures.push(`HTTP ${r.status}: ${r.text.slice(0, 200)}`)
      else if (r.status === 200 && r.body?.response?.status?.code >= 500) failures.push(`internal error in review: ${r.body.response.status.message}`)
    } catch (e) {
      failures.push(`${path}: ${(e as Error).message} for ${JSON.stringify(body).slice(0, 200)}`)
    }
  }
  await fc.assert(
    fc.asyncProperty(reviewArb, fc.constantFrom('/validate', '/mutate'), async (body, path) => {
      const p: Promise<void> = send(body, path).finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (inFlight.size >= 8) await Promise.race(inFlight)
    }),
    { numRuns: 10_000, seed: 20261123 },
  )
  await Promise.all(inFlight)
  t.same(failures.slice(0, 5), [], 'no 5xx, no internal error, no dropped connection')
  t.equal(count, 10_000)
  t.ok((statuses.get(200) ?? 0) > 5000, `mostly well-formed envelopes answered: ${JSON.stringify([...statuses])}`)
  t.equal((await get(s.agent, `${s.url}/healthz`)).status, 200, 'still serving')
  const ok = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'after', ['fresh'])))
  t.equal(ok.body.response.allowed, true, 'and still deciding')
})

t.test('deep nesting is refused with a reason, not a crash', async (t) => {
  const s = await startTestServer(t)
  const r = review(virtualService('default', 'deep', ['deep']))
  r.request.object.spec.http = [{ match: ['DEEP'], route: [] }]
  // 5000 levels: built as text, since JSON.stringify itself would overflow the stack
  const body = JSON.stringify(r).replace('"DEEP"', `${'{"n":['.repeat(5000)}1${']}'.repeat(5000)}`)
  const res = await post(s.agent, `${s.url}/validate`, body)
  t.equal(res.status, 200)
  t.equal(res.body.response.allowed, false)
  t.match(res.body.response.status.message, /nested deeper than \d+ levels/)
})

function rawTls(port: number, ca: Buffer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(sock))
    sock.on('error', reject)
  })
}

t.test('slowloris: partial requests and idle connections are cut off; others are served meanwhile', async (t) => {
  const s = await startTestServer(t, { timeouts: { requestMs: 1000, headersMs: 1000, idleMs: 1500, keepAliveMs: 1000 } })
  const closed: Promise<number>[] = []
  const sockets: TLSSocket[] = []
  const openAt = Date.now()
  for (let i = 0; i < 40; i++) {
    const sock = await rawTls(s.port, s.ca)
    sockets.push(sock)
    closed.push(new Promise((resolve) => sock.on('close', () => resolve(Date.now() - openAt))))
    sock.on('error', () => {})
    if (i % 3 === 0) sock.write('POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"apiVersion":') // body never finishes
    else if (i % 3 === 1) {
      // headers trickled a byte every 300 ms: never idle, never finished
      sock.write('POST /validate HTTP/1.1\r\nHost: x\r\nX-Slow: ')
      const drip = setInterval(() => sock.writable && sock.write('a'), 300)
      sock.on('close', () => clearInterval(drip))
    }
    // else: idle after the handshake
  }
  const r = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'normal', ['normal'])))
  t.equal(r.body.response.allowed, true, 'a normal review is answered while 40 connections stall')
  // the timeouts are 1-1.5 s; Node checks them every connectionsCheckingInterval (30 s by
  // default, which let stalled clients stay 20-30 s): all 40 must be closed long before that
  const times = await Promise.race([Promise.all(closed), new Promise<number[]>((resolve) => setTimeout(() => resolve([]), 15_000))])
  t.equal(times.length, 40, `every stalled connection was closed by the server (last after ${Math.max(0, ...times)} ms)`)
  t.equal((await get(s.agent, `${s.url}/healthz`)).status, 200)
})

t.test('certificate rotation under load: zero failed requests, new handshakes get the new certificate', async (t) => {
  const dir = tempDir(t)
  const first = generateCertificates()
  writeCertificates(dir, first)
  const s = await startTestServer(t, { dir })
  const ca = Buffer.from(first.caCert)
  let ok = 0
  let failed = 0
  let stop = false
  const fingerprints = new Set<string>()
  const worker = async (reset: boolean) => {
    const agent = tlsAgent(ca)
    while (!stop) {
      try {
        const res = await post(agent, `${s.url}/validate`, review(virtualService('default', `rot-${ok}`, [`rot-${ok}`]), { dryRun: true }))
        if (res.status === 200 && res.body.response.allowed === true) ok++
        else failed++
      } catch {
        failed++
      }
      if (reset) {
        await agent.close().catch(() => {})
        return worker(reset)
      }
    }
    await agent.close()
  }
  const probe = setInterval(() => {
    const sock = connect({ host: '127.0.0.1', port: s.port, ca, servername: 'localhost' }, () => {
      fingerprints.add(sock.getPeerCertificate().fingerprint256)
      sock.end()
    })
    sock.on('error', () => failed++)
  }, 50)
  const workers = [worker(false), worker(false), worker(true), worker(true)]
  // and an autocannon run over keep-alive connections (it does not verify certificates; the
  // probe above does) for the whole rotation
  const load = autocannon({
    url: `${s.url}/validate`,
    method: 'POST',
    connections: 8,
    duration: 2.8,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(review(virtualService('default', 'rot-load', ['rot-load']), { dryRun: true })),
  })
  t.ok(await eventually(() => ok > 5 && fingerprints.size === 1), 'traffic flows and handshakes see the first certificate')
  // rotate twice, as a mounted Secret does (new files renamed into place), same CA
  for (let i = 0; i < 2; i++) {
    const next = generateCertificates({ ca: { cert: first.caCert, key: first.caKey } })
    writeFileSync(join(dir, 'tls.key.tmp'), next.key)
    writeFileSync(join(dir, 'tls.crt.tmp'), next.cert)
    renameSync(join(dir, 'tls.key.tmp'), join(dir, 'tls.key'))
    renameSync(join(dir, 'tls.crt.tmp'), join(dir, 'tls.crt'))
    t.ok(await eventually(() => fingerprints.size === i + 2), `rotation ${i + 1}: new handshakes get the new certificate`)
  }
  const cannon = await load
  stop = true
  clearInterval(probe)
  await Promise.all(workers)
  t.same({ errors: cannon.errors, timeouts: cannon.timeouts, non2xx: cannon.non2xx }, { errors: 0, timeouts: 0, non2xx: 0 }, `autocannon: ${cannon.requests.total} requests, none failed`)
  t.ok(cannon.requests.total > 20, 'autocannon kept the server busy through both rotations')
  t.equal(failed, 0, 'no failed request or handshake')
  t.ok(ok > 20, `${ok} requests answered during the run`)
  t.ok(fingerprints.size >= 3, `new handshakes saw each certificate (${fingerprints.size} seen)`)
})


function spawnServe(args: string[], cwd: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'serve', '--log-level', 'warn', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.resume()
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) }
}

t.test('SIGTERM: /readyz 503 at once, an in-flight review finishes, exit within the grace', async (t) => {
  const dir = tempDir(t)
  writeCertificates(join(dir, 'certs'), generateCertificates())
  const ca = readFileSync(join(dir, 'certs/ca.crt'))
  const port = await freePort()
  const { child, exited } = spawnServe(['--port', String(port), '--shutdown-grace', '4'], dir)
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const agent = tlsAgent(ca)
  const base = `https://127.0.0.1:${port}`
  t.ok(await eventually(() => get(agent, `${base}/readyz`).then((r) => r.status === 200, () => false)), 'ready')
  // an in-flight review: headers and half the body sent, the rest after SIGTERM
  const body = JSON.stringify(review(virtualService('default', 'inflight', ['inflight'])))
  const sock = await rawTls(port, ca)
  let response = ''
  sock.on('data', (d) => (response += d))
  sock.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 100)}`)
  await new Promise((r) => setTimeout(r, 100))
  const termAt = Date.now()
  child.kill('SIGTERM')
  const probe = tlsAgent(ca)
  t.ok(await eventually(() => get(probe, `${base}/readyz`).then((r) => r.status === 503, () => false)), '/readyz is 503 after SIGTERM, while reviews are still answered')
  sock.write(body.slice(100))
  await eventually(() => response.includes('"allowed":true'))
  t.match(response, /^HTTP\/1\.1 200/, 'the in-flight review was answered')
  t.match(response, /"allowed":true/)
  const code = await exited
  t.equal(code, 0, `exit code 0 (after ${Date.now() - termAt} ms)`)
  await agent.close()
})

t.test('leader election across two processes: exactly one audits; killing it hands over after the lease expires', async (t) => {
  const { api, dir, ca } = await fakeCluster(t)
  const agent = tlsAgent(ca)
  const procs = await Promise.all(
    ['replica-a', 'replica-b'].map(async (identity) => {
      const port = await freePort()
      const p = spawnServe(['--port', String(port), '--kubeconfig', join(dir, 'kubeconfig'), '--identity', identity, '--audit-interval', '1', '--lease-duration', '3'], dir)
      t.teardown(() => {
        if (p.child.exitCode === null) p.child.kill('SIGKILL')
      })
      return { identity, port, ...p }
    }),
  )
  const leaderMetric = async (port: number) => {
    const m = await get(agent, `https://127.0.0.1:${port}/metrics`).catch(() => undefined)
    return m ? /^routeguard_audit_leader 1$/m.test(m.text) : undefined
  }
  const holder = () => (api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard') as any)?.spec?.holderIdentity
  t.ok(await eventually(async () => (await Promise.all(procs.map((p) => leaderMetric(p.port)))).filter((x) => x === true).length === 1, 120_000), 'exactly one process reports leadership')
  const renewals = new Set<string>()
  const renewTime = () => (api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard') as any)?.spec?.renewTime
  t.ok(await eventually(() => renewals.add(renewTime()).size >= 3), 'the leader renews')
  const states = await Promise.all(procs.map((p) => leaderMetric(p.port)))
  t.same(states.filter(Boolean).length, 1, 'still exactly one after a few renewals')
  const leader = procs.find((_, i) => states[i])!
  const follower = procs.find((p) => p !== leader)!
  t.equal(holder(), leader.identity)
  const killedAt = Date.now()
  leader.child.kill('SIGKILL') // no release: the lease has to expire
  t.ok(await eventually(async () => (await leaderMetric(follower.port)) === true, 120_000), `the other process takes over (after ${Date.now() - killedAt} ms)`)
  t.equal(holder(), follower.identity)
  await agent.close()
})
