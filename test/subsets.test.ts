/**
 * Generated per-subset Services (Bookinfo parity lives in conformance/samples.test.ts): the /mutate path
 * against the fake API server (server-side apply on the wire, dryRun, failures), and the
 * reconciler (parent changes, subset removal, hand-made Services left alone).
 */
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { KIND } from '../src/model/object.js'
import { CORE_RESOURCES, FakeApiServer, GATEWAY_API_RESOURCES, ISTIO_RESOURCES } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer } from './helpers.js'

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

const reviewsService = (selector: Record<string, string> = { app: 'reviews' }) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'default', labels: { app: 'reviews' } },
  spec: { selector, ports: [{ name: 'http', port: 9080, targetPort: 9080, appProtocol: 'http' }] },
})

const reviewsDR = (subsets = ['v1', 'v2', 'v3'], annotations?: Record<string, string>) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { host: 'reviews.default.svc.cluster.local', subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) },
})

const route = (backends: string[]) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules: [{ backendRefs: backends.map((name) => ({ name, port: 9080, weight: 50 })) }] },
})

async function setup(t: any, audit = false) {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  api.put(reviewsService())
  api.put(reviewsDR())
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), ...(audit ? { audit: { identity: 'a', intervalMs: 300, leaseDurationSeconds: 2, renewIntervalMs: 500, retryIntervalMs: 200, reactAfterMs: 100 } } : {}) })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200 && s.view.size(KIND.DestinationRule) === 1))
  return { api, s }
}

const decodePatch = (r: any) => (r.body.response.patch ? JSON.parse(Buffer.from(r.body.response.patch, 'base64').toString()) : [])

t.test('/mutate generates a missing <svc>-<subset> Service with server-side apply and annotates the route', async (t) => {
  const { api, s } = await setup(t)
  const r = await post(s.agent, `${s.url}/mutate`, review(route(['reviews-v1', 'reviews-v2'])))
  t.equal(r.body.response.allowed, true)
  t.equal(r.body.response.patchType, 'JSONPatch')
  t.same(decodePatch(r), [{ op: 'add', path: '/metadata/annotations', value: { 'routeguard.io/generated-services': 'default/reviews-v1,default/reviews-v2' } }])
  const svc = api.get('v1', 'Service', 'default', 'reviews-v2') as any
  t.same(svc.spec.selector, { app: 'reviews', version: 'v2' })
  t.same(svc.spec.ports, [{ name: 'http', port: 9080, targetPort: 9080, appProtocol: 'http' }])
  t.same(svc.metadata.labels, { 'app.kubernetes.io/managed-by': 'routeguard', 'routeguard.io/subset-of': 'reviews' })
  const dr = api.get('networking.istio.io/v1', 'DestinationRule', 'default', 'reviews') as any
  t.same(svc.metadata.ownerReferences, [{ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', name: 'reviews', uid: dr.metadata.uid }], 'owned by the DestinationRule: garbage-collected with it')
  const apply = api.requests.find((q) => q.method === 'PATCH' && q.path === '/api/v1/namespaces/default/services/reviews-v2')!
  t.equal(apply.contentType, 'application/apply-patch+yaml')
  t.equal(apply.query.fieldManager, 'routeguard')
  t.equal(apply.query.force, 'false', 'never forces over another field manager')
  t.notOk(api.get('v1', 'Service', 'default', 'reviews-v3'), 'only what the route references')
})

t.test('a subset whose labels contradict the parent selector (or a parent without one) generates nothing: RG0404 names the key', async (t) => {
  const { api, s } = await setup(t)
  // a tenant's DestinationRule subset that would select the payments Pods
  const evil = { ...reviewsDR(), metadata: { name: 'evil', namespace: 'default' }, spec: { host: 'reviews', subsets: [{ name: 'evil', labels: { app: 'payments' } }, { name: 'fine', labels: { version: 'v9' } }] } }
  api.put(evil)
  t.ok(await eventually(() => s.view.size(KIND.DestinationRule) === 2))
  const r = await post(s.agent, `${s.url}/mutate`, review(route(['reviews-evil', 'reviews-fine'])))
  t.equal(r.body.response.allowed, true)
  t.match(r.body.response.warnings.join('\n'), /RG0404: HTTPRoute default\/reviews: could not generate Service default\/reviews-evil: subset label app=payments contradicts Service default\/reviews's selector app=reviews/)
  t.notOk(api.get('v1', 'Service', 'default', 'reviews-evil'), 'no Service selecting app=payments')
  t.same((api.get('v1', 'Service', 'default', 'reviews-fine') as any).spec.selector, { app: 'reviews', version: 'v9' }, 'a subset within the parent is generated')
  // a parent Service without a selector: none of its subsets
  api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'default' }, spec: { ports: [{ port: 80 }] } })
  api.put({ ...reviewsDR(), metadata: { name: 'manual', namespace: 'default' }, spec: { host: 'manual', subsets: [{ name: 'v1', labels: { app: 'payments' } }] } })
  t.ok(await eventually(() => s.view.get(KIND.DestinationRule, 'default', 'manual') && s.view.get(KIND.Service, 'default', 'manual')))
  const m = await post(s.agent, `${s.url}/mutate`, review({ ...route(['manual-v1']), metadata: { name: 'manual', namespace: 'default' } }))
  t.match(m.body.response.warnings.join('\n'), /could not generate Service default\/manual-v1: Service default\/manual has no selector/)
  t.notOk(api.get('v1', 'Service', 'default', 'manual-v1'))
})

t.test('/mutate with dryRun writes nothing and warns', async (t) => {
  const { api, s } = await setup(t)
  const before = api.requests.filter((q) => q.method !== 'GET').length
  const r = await post(s.agent, `${s.url}/mutate`, review(route(['reviews-v3']), { dryRun: true }))
  t.equal(r.body.response.allowed, true)
  t.equal(r.body.response.warnings.length, 1)
  t.match(r.body.response.warnings[0], /^RG0403: HTTPRoute default\/reviews: would generate Service default\/reviews-v3 \(dryRun\)/)
  t.notOk(r.body.response.patch)
  t.equal(api.requests.filter((q) => q.method !== 'GET').length, before, 'no write request at all')
})

t.test('an API failure admits the route with a warning; the reconciler creates the Service later', async (t) => {
  const { api, s } = await setup(t, true)
  api.failNext((q) => q.method === 'PATCH' && q.path.endsWith('/services/reviews-v2'), 403, 1)
  const r = await post(s.agent, `${s.url}/mutate`, review(route(['reviews-v2'])))
  t.equal(r.body.response.allowed, true, 'admitted anyway')
  t.match(r.body.response.warnings[0], /^RG0404: HTTPRoute default\/reviews: could not generate Service default\/reviews-v2: HTTP 403/)
  api.put(route(['reviews-v2'])) // the route lands in the cluster
  t.ok(await eventually(() => api.get('v1', 'Service', 'default', 'reviews-v2')), 'retried by the reconciler')
})

t.test('reconciler: parent Service changes propagate; removed subsets are deleted; hand-made Services are left alone', async (t) => {
  const { api, s } = await setup(t, true)
  api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews-v1', namespace: 'default' }, spec: { selector: { app: 'reviews', version: 'v1', team: 'mine' }, ports: [{ port: 9080 }] } })
  api.put(reviewsDR(['v1', 'v2', 'v3'], { 'routeguard.io/subset-services': 'true' }))
  t.ok(await eventually(() => api.get('v1', 'Service', 'default', 'reviews-v2') && api.get('v1', 'Service', 'default', 'reviews-v3')), 'opt-in: a Service per subset')
  const handMade = api.get('v1', 'Service', 'default', 'reviews-v1') as any
  t.same(handMade.spec.selector, { app: 'reviews', version: 'v1', team: 'mine' }, 'the hand-made Service is untouched')
  t.notOk(api.requests.some((q) => q.method !== 'GET' && q.path.endsWith('/services/reviews-v1')), 'not even a request for it')
  const dr = review(reviewsDR(['v1', 'v2', 'v3'], { 'routeguard.io/subset-services': 'true' }), { operation: 'UPDATE' })
  const v = await post(s.agent, `${s.url}/validate`, dr)
  // the fake cluster runs no Pods: IST0173 warns beside it
  t.ok(
    (v.body.response.warnings ?? []).some((w: string) => /^RG0402: DestinationRule default\/reviews subset v1: Service default\/reviews-v1 exists and is not managed by routeguard/.test(w)),
    'RG0402 warning for the hand-made Service',
  )

  api.put(reviewsService({ app: 'reviews', tier: 'backend' }))
  t.ok(await eventually(() => (api.get('v1', 'Service', 'default', 'reviews-v2') as any)?.spec.selector.tier === 'backend'), 'parent selector change propagated')
  t.ok(await eventually(() => (api.get('v1', 'Service', 'default', 'reviews-v3') as any)?.spec.selector.tier === 'backend'))
  t.same((api.get('v1', 'Service', 'default', 'reviews-v3') as any).spec.selector, { app: 'reviews', tier: 'backend', version: 'v3' })

  api.put(reviewsDR(['v1', 'v2'], { 'routeguard.io/subset-services': 'true' }))
  t.ok(await eventually(() => !api.get('v1', 'Service', 'default', 'reviews-v3')), 'removed subset: its Service is deleted')
  t.ok(api.get('v1', 'Service', 'default', 'reviews-v2'), 'the others stay')
  t.ok(api.get('v1', 'Service', 'default', 'reviews-v1'), 'the hand-made one stays')
})

t.test('reconciler (unit): no deletion while a DestinationRule is pending; the stored version decides once delivered', async (t) => {
  const { ClusterView } = await import('../src/view/view.js')
  const { PendingWrites } = await import('../src/view/pending.js')
  const { SubsetReconciler } = await import('../src/subsets/reconciler.js')
  const { buildSubsetService } = await import('../src/subsets/subsets.js')
  const view = new ClusterView()
  const pending = new PendingWrites(view, { ttlMs: 60_000 })
  const removed: string[] = []
  const writer = { apply: async () => {}, remove: async (ns: string, name: string) => void removed.push(`${ns}/${name}`) }
  const base = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'default' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } }
  const dr = (subsets: string[], rv: string) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: 'default', uid: 'dr-uid', resourceVersion: rv, annotations: { 'routeguard.io/subset-services': 'true' } },
    spec: { host: 'reviews', subsets: subsets.map((name) => ({ name, labels: { version: name } })) },
  })
  view.upsert(base)
  pending.upsert(dr(['v2'], '1'))
  view.upsert(buildSubsetService(base, dr(['v2'], '1'), 'v2', { version: 'v2' }))
  const reconciler = new SubsetReconciler(view, writer, undefined, pending)
  await reconciler.reconcile()
  t.same(removed, [], 'the stored DestinationRule wants reviews-v2')
  // an UPDATE admitted by /validate: pending, not stored yet
  pending.admitted('UPDATE', dr(['v2', 'v3'], '1'))
  await reconciler.reconcile()
  t.same(removed, [], 'no deletion while the DestinationRule is pending')
  // delivered without v2: now it goes
  pending.upsert(dr(['v3'], '2'))
  await reconciler.reconcile()
  t.same(removed, ['default/reviews-v2'], 'deleted once the stored version no longer wants it')
})

t.test('#28 RG0402 on the route: a backendRef <svc>-<subset> answered by a hand-made Service is named with its DestinationRule', async (t) => {
  const { analyzeObjects, selectRules } = await import('../src/analyze/analyze.js')
  const objects = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'shop' }, spec: { selector: { app: 'reviews' }, ports: [{ port: 9080 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews-v3', namespace: 'shop' }, spec: { selector: { app: 'legacy' }, ports: [{ port: 9080 }] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: 'shop' }, spec: { host: 'reviews', subsets: [{ name: 'v3', labels: { version: 'v3' } }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }], rules: [{ backendRefs: [{ name: 'reviews-v3', port: 9080 }] }] } },
  ]
  const run = (objs: unknown[]) => analyzeObjects(objs.map((object) => ({ object: object as never, source: { file: 'x', line: 1 } })), { rules: selectRules(['RG0402']) }).findings
  const findings = run(objects)
  t.match(findings, [{ resource: { kind: 'HTTPRoute', name: 'r' }, path: 'spec.rules[0].backendRefs[0]', message: /HTTPRoute shop\/r subset v3 of DestinationRule shop\/reviews: Service shop\/reviews-v3 exists and is not managed by routeguard/ }])
  t.same(findings[0]!.related.map((r) => `${r.kind} ${r.name}`), ['Service reviews-v3', 'DestinationRule reviews'])
  t.same(run(objects.filter((o) => o.metadata.name !== 'reviews' || o.kind !== 'DestinationRule')), [], 'without the subset in a DestinationRule the name is just a Service')
  const managed = { ...objects[1], metadata: { ...objects[1]!.metadata, labels: { 'app.kubernetes.io/managed-by': 'routeguard', 'routeguard.io/subset-of': 'reviews' } } }
  t.same(run([objects[0], managed, objects[2], objects[3]]), [], 'a generated Service is what the route wants')
})
