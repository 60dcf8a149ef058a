/**
 * Two replicas, one answer (issue #24): two routeguard processes against the loopback API
 * server, behind a round-robin TCP front (each connection to the next replica, as a Service
 * spreads the API server's connections), over real TLS. Each pair of conflicting objects is
 * reviewed at once on two connections, so its two reviews reach different replicas. With
 * `--claims` exactly one of each pair is admitted; without, both are (the race the claims
 * close). Then: an API server that stops answering Lease requests gets reviews answered per
 * failurePolicy within the claim timeout; claims are given back once their object is stored.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { Agent, request } from 'undici'
import { FakeApiServer } from './fake-apiserver.js'
import * as k8s from '@kubernetes/client-node'
import { eventually, fakeCluster, freePort, get, review, startTestServer, virtualService } from './helpers.js'

interface Replica {
  port: number
  child: ChildProcess
}

/** A TCP front that hands each new connection to the next replica in turn. */
async function roundRobin(ports: number[]): Promise<{ port: number; server: Server; counts: number[] }> {
  let next = 0
  const counts = ports.map(() => 0)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const i = next++ % ports.length
    counts[i]!++
    const upstream = netConnect(ports[i]!, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  server.on('close', () => sockets.forEach((s) => s.destroy()))
  return { port: (server.address() as { port: number }).port, server, counts }
}

async function setup(t: any, o: { claims: boolean; extra?: string[] }) {
  const { api, dir, kubeconfig, ca } = await fakeCluster(t)
  api.put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'shared', namespace: 'infra' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } })
  const replicas: Replica[] = []
  for (const identity of ['replica-a', 'replica-b']) {
    const port = await freePort()
    const args = ['serve', '--port', String(port), '--kubeconfig', kubeconfig, '--identity', identity, '--no-audit', '--log-level', 'warn', ...(o.claims ? ['--claims'] : []), ...(o.extra ?? [])]
    const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr!.resume()
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    replicas.push({ port, child })
  }
  const probe = new Agent({ connect: { ca } })
  t.teardown(() => probe.close())
  for (const r of replicas) {
    t.ok(await eventually(() => request(`https://127.0.0.1:${r.port}/readyz`, { dispatcher: probe }).then(async (x) => (await x.body.text(), x.statusCode === 200), () => false)), `replica on ${r.port} ready`)
  }
  const front = await roundRobin(replicas.map((r) => r.port))
  t.teardown(() => new Promise<void>((r) => front.server.close(() => r())))
  /** One review on a new connection through the front (so the next replica takes it). */
  const validate = async (obj: unknown) => {
    const agent = new Agent({ connect: { ca }, pipelining: 0 })
    try {
      const res = await request(`https://127.0.0.1:${front.port}/validate`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(review(obj)) })
      return JSON.parse(await res.body.text()).response as { allowed: boolean; status?: { code: number; message: string }; warnings?: string[] }
    } finally {
      await agent.close()
    }
  }
  return { api, replicas, front, validate, probe }
}

const httpRoute = (ns: string, name: string, path: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
})

/** Sends `pairs` conflicting pairs, each pair's two reviews at once; the API server then stores what was admitted. */
async function race(s: Awaited<ReturnType<typeof setup>>, pairs: [any, any][]) {
  const tally = { bothAdmitted: 0, bothDenied: 0, one: 0, messages: [] as string[] }
  for (const [a, b] of pairs) {
    const [ra, rb] = await Promise.all([s.validate(a), s.validate(b)])
    if (ra.allowed && rb.allowed) tally.bothAdmitted++
    else if (!ra.allowed && !rb.allowed) tally.bothDenied++
    else tally.one++
    const denied = ra.allowed ? rb : ra
    if (!denied.allowed && denied.status) tally.messages.push(denied.status.message)
    // what was admitted is stored, as the API server does after admission
    if (ra.allowed) s.api.put(a)
    if (rb.allowed) s.api.put(b)
  }
  return tally
}

t.test('two replicas with --claims: of 100 conflicting VirtualService pairs and 30 HTTPRoute pairs, exactly one of each admitted', async (t) => {
  const s = await setup(t, { claims: true })
  const vs = await race(s, Array.from({ length: 100 }, (_, i) => [virtualService('team-a', `a-${i}`, [`svc-${i}.shop.svc.cluster.local`]), virtualService('team-b', `b-${i}`, [`svc-${i}.shop.svc.cluster.local`])]))
  t.equal(s.front.counts[0], s.front.counts[1], `the front spread the reviews evenly (${s.front.counts})`)
  t.same({ bothAdmitted: vs.bothAdmitted, bothDenied: vs.bothDenied, one: vs.one }, { bothAdmitted: 0, bothDenied: 0, one: 100 }, 'VirtualServices: one answer per pair')
  t.ok(vs.messages.some((m) => /^IST0109: VirtualService team-[ab]\/[ab]-\d+ conflicts with VirtualService team-[ab]\/[ab]-\d+ on mesh host svc-\d+\.shop\.svc\.cluster\.local: .* was admitted by another replica \d+ ms ago and is not stored yet/.test(m)), `a denial names the other replica's object: ${vs.messages[0]}`)
  const routes = await race(s, Array.from({ length: 30 }, (_, i) => [httpRoute('team-a', `r-${i}`, `/p${i}`), httpRoute('team-b', `r-${i}`, `/p${i}`)]))
  t.same({ bothAdmitted: routes.bothAdmitted, bothDenied: routes.bothDenied, one: routes.one }, { bothAdmitted: 0, bothDenied: 0, one: 30 }, 'HTTPRoutes with an identical match (RG0103): one answer per pair')
  // claims are given back once the informers deliver the stored objects
  t.ok(await eventually(() => s.api.list('coordination.k8s.io', 'leases').filter((l: any) => l.metadata.name.startsWith('routeguard-claim-')).length === 0), 'every claim was released once its object was stored')
  // a non-conflicting object is admitted on either replica; an UPDATE of an admitted one too
  t.equal((await s.validate(virtualService('team-c', 'other', ['other.shop.svc.cluster.local']))).allowed, true)
  const m = await request(`https://127.0.0.1:${s.replicas[0]!.port}/metrics`, { dispatcher: s.probe }).then((r) => r.body.text())
  t.match(m, /routeguard_claims_total\{result="claimed"\} [1-9]/)
  t.match(m, /routeguard_claim_duration_seconds_count [1-9]/)
})

t.test('two replicas without claims: the race shows (both of a pair admitted)', async (t) => {
  const s = await setup(t, { claims: false })
  const vs = await race(s, Array.from({ length: 20 }, (_, i) => [virtualService('team-a', `a-${i}`, [`svc-${i}.shop.svc.cluster.local`]), virtualService('team-b', `b-${i}`, [`svc-${i}.shop.svc.cluster.local`])]))
  t.ok(vs.bothAdmitted > 0, `${vs.bothAdmitted} of 20 pairs both admitted`)
})

t.test('the API server stops answering Lease requests: reviews are answered within the claim timeout, per failurePolicy', async (t) => {
  const s = await setup(t, { claims: true, extra: ['--claim-timeout', '300'] })
  s.api.stall((r) => r.path.includes('/leases'))
  const r = await s.validate(virtualService('team-a', 'stalled', ['stalled.shop.svc.cluster.local']))
  t.equal(r.allowed, false, 'failurePolicy Fail: refused')
  t.equal(r.status?.code, 503)
  t.match(r.status?.message, /could not claim VirtualService team-a\/stalled's conflict keys in the API server \(no answer from the API server within the claim timeout \(300 ms\)\)/)
  s.api.stall(undefined)
  t.equal((await s.validate(virtualService('team-a', 'again', ['again.shop.svc.cluster.local']))).allowed, true, 'claims work again once the API server answers')
})

t.test('the audit leader collects expired claims (strays of replicas that died or objects never stored); live ones stay', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  const lease = (name: string, renewTime: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'routeguard-system', labels: { 'routeguard.io/claim': 'true' } },
    spec: { holderIdentity: 'team-a/ghost', leaseDurationSeconds: 5, acquireTime: renewTime, renewTime },
  })
  api.put(lease('routeguard-claim-stray', '2026-01-01T00:00:00.000000Z'))
  api.put(lease('routeguard-claim-live', new Date(Date.now() + 3_600_000).toISOString().replace('Z', '000Z')))
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  const s = await startTestServer(t, { kubeConfig: kc, claims: { namespace: 'routeguard-system', identity: 'a' }, audit: { identity: 'a', intervalMs: 300, leaseDurationSeconds: 2, renewIntervalMs: 500, retryIntervalMs: 200, reactAfterMs: 100 } })
  t.ok(await eventually(() => !api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard-claim-stray')), 'the expired claim was deleted')
  t.ok(api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard-claim-live'), 'the live one stays')
  t.ok(await eventually(async () => /routeguard_claim_strays_collected_total [1-9]/.test((await get(s.agent, `${s.url}/metrics`)).text)), 'counted in routeguard_claim_strays_collected_total')
})
