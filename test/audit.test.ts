/**
 * The background audit against the fake API server: incremental passes, PolicyReports written
 * with server-side apply, Events when the PolicyReport CRD is absent, leader election between two
 * replicas, and `analyze --kubeconfig`.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { stringify } from 'yaml'
import { Auditor } from '../src/audit/auditor.js'
import { selectRules } from '../src/analyze/analyze.js'
import { ClusterView } from '../src/view/view.js'
import { CORE_RESOURCES, FakeApiServer, GATEWAY_API_RESOURCES, ISTIO_RESOURCES, OPEN_REPORT_RESOURCES, POLICY_REPORT_RESOURCES } from './fake-apiserver.js'
import { eventually, runCli, startTestServer, tempDir, virtualService } from './helpers.js'

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

async function fakeApi(t: { teardown: (fn: () => Promise<void>) => void }, withReports = true) {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES, ...(withReports ? POLICY_REPORT_RESOURCES : [])])
  await api.start()
  t.teardown(() => api.stop())
  return api
}

const fastLease = { leaseDurationSeconds: 2, renewIntervalMs: 500, retryIntervalMs: 200 }

t.test('Auditor: incremental passes re-evaluate only what changed and its partners', async (t) => {
  const view = new ClusterView()
  for (let i = 0; i < 50; i++) view.upsert(virtualService('default', `unique-${i}`, [`u${i}`]))
  view.upsert(virtualService('default', 'a', ['shared']))
  view.upsert(virtualService('default', 'b', ['shared']))
  const auditor = new Auditor(view, selectRules(['IST0109']))
  const first = auditor.run()
  t.equal(first.evaluated, 52, 'the first pass evaluates everything')
  t.same(auditor.all().map((f) => f.resource.name).sort(), ['a', 'b'])
  t.same([...first.changedNamespaces], ['default'])
  t.equal(auditor.run().evaluated, 0, 'nothing changed: nothing evaluated')
  view.remove(virtualService('default', 'a', ['shared']))
  const second = auditor.run()
  t.ok(second.evaluated <= 2, `only the deleted object's partner is evaluated (${second.evaluated})`)
  t.same(auditor.all(), [], 'the conflict is gone')
  view.upsert(virtualService('other', 'c', ['shared.default.svc.cluster.local']))
  const third = auditor.run()
  t.same(auditor.all().map((f) => f.resource.name).sort(), ['b', 'c'], 'a new partner makes the old object conflict too')
  t.ok(third.evaluated <= 3)
  t.same(third.added.map((f) => f.resource.name).sort(), ['b', 'c'])
})

t.test('Auditor: pending objects (admitted, not yet stored) are not reported until the informer delivers them', async (t) => {
  const { PendingWrites } = await import('../src/view/pending.js')
  const view = new ClusterView()
  const pending = new PendingWrites(view, { ttlMs: 60_000 })
  view.upsert({ ...virtualService('default', 'a', ['shared']), metadata: { name: 'a', namespace: 'default', resourceVersion: '1' } })
  pending.admitted('CREATE', virtualService('default', 'b', ['shared']))
  const auditor = new Auditor(view, selectRules(['IST0109']))
  auditor.run()
  t.notOk(auditor.all().some((f) => f.resource.name === 'b'), 'the pending object has no findings of its own')
  pending.upsert({ ...virtualService('default', 'b', ['shared']), metadata: { name: 'b', namespace: 'default', resourceVersion: '2' } })
  auditor.run()
  t.ok(auditor.all().some((f) => f.resource.name === 'b'), 'delivered: reported')
  // an UPDATE that would end the conflict, admitted but not stored: the stored version's findings stand
  pending.admitted('UPDATE', virtualService('default', 'b', ['elsewhere']))
  auditor.run()
  t.ok(auditor.all().some((f) => f.resource.name === 'b'), 'pending UPDATE: the stored version is still reported')
  pending.upsert({ ...virtualService('default', 'b', ['elsewhere']), metadata: { name: 'b', namespace: 'default', resourceVersion: '3' } })
  auditor.run()
  t.notOk(auditor.all().some((f) => f.resource.name === 'b'), 'delivered: the conflict is gone')
})

t.test('audit: a conflict created behind the webhook appears in a PolicyReport, and clears', async (t) => {
  const api = await fakeApi(t)
  api.put(virtualService('default', 'reviews', ['reviews']))
  api.put(virtualService('default', 'reviews-sneaky', ['reviews']))
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), audit: { identity: 'replica-a', intervalMs: 200, ...fastLease } })
  const conflicts = (r: any) => (r?.results ?? []).filter((x: any) => x.rule === 'IST0109')
  const report = await eventually(() => {
    const r = api.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'routeguard') as any
    return conflicts(r).length === 2 ? r : undefined
  })
  t.ok(report, 'PolicyReport default/routeguard written')
  t.same(conflicts(report).map((r: any) => `${r.rule} ${r.resources[0].kind} ${r.resources[0].name} ${r.result}`).sort(), ['IST0109 VirtualService reviews fail', 'IST0109 VirtualService reviews-sneaky fail'])
  t.equal(report.summary.fail, report.results.filter((r: any) => r.result === 'fail').length, 'summary counts the results')
  const apply = api.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/policyreports/routeguard'))!
  t.equal(apply.contentType, 'application/apply-patch+yaml', 'server-side apply content type on the wire')
  t.equal(apply.query.fieldManager, 'routeguard')
  t.equal(apply.query.force, 'true')
  api.remove('networking.istio.io/v1', 'VirtualService', 'default', 'reviews-sneaky')
  t.ok(await eventually(() => conflicts(api.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'routeguard')).length === 0), 'the conflict leaves the report when it is resolved')
  t.ok(s.audit!.elector.isLeader)
  const m = await (await import('./helpers.js')).get(s.agent, `${s.url}/metrics`)
  t.match(m.text, /^routeguard_audit_leader 1$/m)
  t.match(m.text, /routeguard_audit_duration_seconds \d/)
  t.match(m.text, /routeguard_audit_last_run_timestamp_seconds \d/)
})

t.test('audit: without the PolicyReport CRD, deduplicated Warning Events on the objects', async (t) => {
  const api = await fakeApi(t, false)
  api.put(virtualService('default', 'one', ['x']))
  api.put(virtualService('default', 'two', ['x']))
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), audit: { identity: 'replica-a', intervalMs: 100, ...fastLease } })
  const conflictEvents = () => (api.list('', 'events') as any[]).filter((e) => e.reason === 'IST0109')
  t.ok(await eventually(() => conflictEvents().length === 2))
  t.same(conflictEvents().map((e) => `${e.reason} ${e.type} ${e.involvedObject.kind} ${e.involvedObject.name}`).sort(), ['IST0109 Warning VirtualService one', 'IST0109 Warning VirtualService two'])
  const total = api.list('', 'events').length
  const passes = s.audit!.passes
  await eventually(() => s.audit!.passes >= passes + 3)
  t.equal(api.list('', 'events').length, total, 'no duplicates on later passes')
  t.equal(api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/events')).length, total, 'one create per distinct finding')
})

t.test('audit: two replicas elect one auditor; the other takes over when it stops', async (t) => {
  const api = await fakeApi(t)
  const kc = kubeConfig(api)
  // a lease long enough that a loaded machine delaying a renewal by a second or two does not
  // hand it over; a.close() releases it, so the takeover does not wait for it to expire
  const lease = { ...fastLease, leaseDurationSeconds: 10 }
  const a = await startTestServer(t, { kubeConfig: kc, audit: { identity: 'replica-a', intervalMs: 200, ...lease } })
  t.ok(await eventually(() => a.audit!.elector.isLeader), 'first replica leads')
  const b = await startTestServer(t, { kubeConfig: kc, audit: { identity: 'replica-b', intervalMs: 200, ...lease } })
  await new Promise((r) => setTimeout(r, 1500))
  t.equal([a, b].filter((s) => s.audit!.elector.isLeader).length, 1, 'exactly one leader')
  t.notOk(b.audit!.elector.isLeader)
  t.equal((api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard') as any).spec.holderIdentity, 'replica-a')
  const started = Date.now()
  await a.close()
  t.ok(await eventually(() => b.audit!.elector.isLeader, 120_000), `the other replica takes over (after ${Date.now() - started} ms)`)
  t.equal((api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard') as any).spec.holderIdentity, 'replica-b')
})

t.test('audit: a leader that dies without releasing is replaced after the lease expires', async (t) => {
  const api = await fakeApi(t)
  // the dead replica's last renewal: made again right after start, so that a slow start on a
  // loaded machine cannot outlast the lease before the first check
  const deadLease = () => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'routeguard', namespace: 'routeguard-system' }, spec: { holderIdentity: 'dead-replica', leaseDurationSeconds: 5, renewTime: new Date().toISOString().replace('Z', '000Z'), leaseTransitions: 3 } })
  api.put(deadLease())
  const b = await startTestServer(t, { kubeConfig: kubeConfig(api), audit: { identity: 'replica-b', intervalMs: 200, ...fastLease } })
  api.put(deadLease())
  await new Promise((r) => setTimeout(r, 500))
  t.notOk(b.audit!.elector.isLeader, 'the lease is still held')
  t.ok(await eventually(() => b.audit!.elector.isLeader, 30_000), 'taken over after expiry')
  t.equal((api.get('coordination.k8s.io/v1', 'Lease', 'routeguard-system', 'routeguard') as any).spec.leaseTransitions, 4)
})

t.test('analyze --kubeconfig runs the audit once against the cluster, read-only', async (t) => {
  const api = await fakeApi(t)
  api.put(virtualService('default', 'reviews', ['reviews']))
  api.put(virtualService('prod', 'reviews-fqdn', ['reviews.default.svc.cluster.local']))
  const dir = tempDir(t)
  writeFileSync(join(dir, 'kubeconfig'), stringify(api.kubeconfig()))
  const before = api.requests.length
  const r = await runCli(['analyze', '--kubeconfig', join(dir, 'kubeconfig')])
  t.equal(r.code, 1, r.stderr)
  t.match(r.stdout, /^Error \[IST0109\] \(VirtualService default\/reviews\) /m, "istioctl's layout: no origin for cluster objects")
  t.match(r.stdout, /VirtualService prod\/reviews-fqdn/)
  t.ok(api.requests.slice(before).every((q) => q.method === 'GET'), 'no writes')
})

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string })

t.test('audit cannot run: a missing Lease namespace is one ERROR line, routeguard_audit_up 0 and /readyz detail; fixed, it runs', async (t) => {
  const api = await fakeApi(t)
  api.enforceNamespaces = true
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })
  api.put(virtualService('default', 'one', ['x']))
  api.put(virtualService('default', 'two', ['x']))
  const dir = tempDir(t)
  const kubeconfig = join(dir, 'kubeconfig.json')
  writeFileSync(kubeconfig, JSON.stringify(api.kubeconfig()))
  const { certDir, get, tlsAgent } = await import('./helpers.js')
  const certs = certDir(t)
  const { freePort } = await import('./helpers.js')
  const port = await freePort()
  const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli.js'), 'serve', '--port', String(port), '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key'), '--kubeconfig', kubeconfig, '--audit-interval', '1', '--lease-duration', '3', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.resume()
  t.teardown(() => void child.kill('SIGKILL'))
  const agent = tlsAgent(readFileSync(join(certs, 'ca.crt')))
  t.teardown(() => agent.close())
  const url = `https://127.0.0.1:${port}`
  const ready = await eventually(async () => {
    const r = await get(agent, `${url}/readyz`).catch(() => undefined)
    return r?.status === 200 && r.body.audit?.up === false ? r : undefined
  })
  t.ok(ready, '/readyz stays 200 (admission is unaffected) and tells why the audit cannot run')
  t.match(ready?.body.audit.reason, /namespace routeguard-system does not exist/)
  const m = await get(agent, `${url}/metrics`)
  t.match(m.text, /^routeguard_audit_up 0$/m)
  // the Lease is retried (every 0.4 s with a 3 s lease); the problem is logged once, not every retry
  const leaseRequests = () => api.requests.filter((q) => q.path.includes('/leases')).length
  const seen = leaseRequests()
  t.ok(await eventually(() => leaseRequests() >= seen + 3), 'the Lease is retried')
  const errors = lines(out).filter((l) => l.level === 50 && l.msg === 'the background audit cannot run')
  t.equal(errors.length, 1, 'one ERROR line')
  t.match(errors[0]?.reason, /namespace routeguard-system does not exist/)
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'routeguard-system' } })
  t.ok(await eventually(async () => (await get(agent, `${url}/readyz`)).body.audit?.up === true), 'up once the namespace exists')
  t.ok(await eventually(() => (api.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'routeguard') as any)?.results?.filter((x: any) => x.rule === 'IST0109').length === 2), 'and the audit reports')
  t.match((await get(agent, `${url}/metrics`)).text, /^routeguard_audit_up 1$/m)
})

t.test('audit cannot run: a forbidden Lease; a missing report CRD (findings still go to Events) until it is installed', async (t) => {
  const api = await fakeApi(t, false)
  api.put(virtualService('default', 'one', ['x']))
  api.put(virtualService('default', 'two', ['x']))
  api.failNext((r) => r.path.includes('/leases'), 403, 8)
  const { get } = await import('./helpers.js')
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), audit: { identity: 'replica-a', intervalMs: 200, ...fastLease } })
  const forbidden = await eventually(async () => {
    const r = await get(s.agent, `${s.url}/readyz`)
    return r.status === 200 && /forbidden/.test(r.body.audit?.reason ?? '') ? r : undefined
  })
  t.ok(forbidden, 'a forbidden Lease is told in /readyz')
  t.equal(forbidden?.status, 200)
  t.match(forbidden?.body.audit.reason, /coordination.k8s.io leases/)
  const noCrd = await eventually(async () => {
    const r = await get(s.agent, `${s.url}/readyz`)
    return /no report CRD is installed/.test(r.body.audit?.reason ?? '') ? r : undefined
  })
  t.ok(noCrd, 'then, leading, the missing PolicyReport CRD')
  t.equal(noCrd?.body.audit.leader, true)
  t.match((await get(s.agent, `${s.url}/metrics`)).text, /^routeguard_audit_up 0$/m)
  t.ok(await eventually(() => (api.list('', 'events') as any[]).filter((e) => e.reason === 'IST0109').length === 2), 'findings still reach Events')
  api.serve(...POLICY_REPORT_RESOURCES)
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).body.audit?.up === true), 'up once the CRD is installed')
  t.ok(await eventually(() => (api.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'routeguard') as any)?.results?.filter((x: any) => x.rule === 'IST0109').length === 2), 'the existing findings get their report')
})

t.test('audit: openreports.io Reports when that CRD is served, preferred over PolicyReports', async (t) => {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES, ...POLICY_REPORT_RESOURCES, ...OPEN_REPORT_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  api.put(virtualService('default', 'reviews', ['reviews']))
  api.put(virtualService('default', 'reviews-sneaky', ['reviews']))
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), audit: { identity: 'replica-a', intervalMs: 200, ...fastLease } })
  const report = await eventually(() => {
    const r = api.get('openreports.io/v1alpha1', 'Report', 'default', 'routeguard') as any
    return (r?.results ?? []).filter((x: any) => x.rule === 'IST0109').length === 2 ? r : undefined
  })
  t.ok(report, 'Report default/routeguard written')
  t.equal(report?.apiVersion, 'openreports.io/v1alpha1')
  t.equal(report?.kind, 'Report')
  t.notOk(api.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'routeguard'), 'no PolicyReport beside it')
  t.equal(s.audit!.health().up, true)
})

t.test('Auditor with hostname ownership: RG0106 on a stored route that holds another namespace\'s requests; none for the owner', async (t) => {
  const view = new ClusterView()
  const gw = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'shared', namespace: 'infra', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } }
  const route = (ns: string, name: string, day: string, path: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns, creationTimestamp: `2026-01-${day}T00:00:00Z` },
    spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: name, port: 80 }] }] },
  })
  for (const o of [gw, route('team-a', 'shop', '02', '/'), route('team-b', 'checkout', '03', '/checkout')]) view.upsert(o)
  let ownership: { mode: 'off' | 'oldest' } = { mode: 'off' }
  const auditor = new Auditor(view, selectRules(['RG0103']), undefined, () => ownership)
  t.same(auditor.run().added.filter((f) => f.code === 'RG0106'), [], 'ownership off: nothing')
  ownership = { mode: 'oldest' }
  view.upsert(route('team-b', 'checkout', '03', '/checkout'))
  view.upsert(route('team-a', 'shop', '02', '/'))
  const pass = auditor.run()
  const rg = pass.added.filter((f) => f.code === 'RG0106')
  t.equal(rg.length, 1, 'one RG0106')
  t.match(rg[0], { resource: { namespace: 'team-b', name: 'checkout' }, message: /takes GET http:\/\/shop\.example\.com\/checkout \(Gateway infra\/shared listener http\) from HTTPRoute team-a\/shop rule 0 \(and 1 more request class\): hostname shop\.example\.com belongs to namespace team-a, not team-b/ })
  t.same(rg[0]!.related.map((r) => `${r.namespace}/${r.name}`), ['team-a/shop'])
  t.equal(view.size(), 3, 'the view is as it was')
})
