/**
 * The live view against the loopback fake API server (test/fake-apiserver.ts): sync, watch
 * events reaching admission, deletes, server restarts, 410 Gone, staleness, CRDs installed later.
 */
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { listKind, discover } from '../src/cluster/client.js'
import { strip } from '../src/cluster/strip.js'
import { WATCHED_KINDS } from '../src/cluster/kinds.js'
import { FakeApiServer, GATEWAY_API_RESOURCES, CORE_RESOURCES, ISTIO_RESOURCES } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer, virtualService } from './helpers.js'

function kubeConfig(api: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return kc
}

async function fakeApi(t: { teardown: (fn: () => Promise<void>) => void }, resources?: ConstructorParameters<typeof FakeApiServer>[0]) {
  const api = new FakeApiServer(resources)
  await api.start()
  t.teardown(() => api.stop())
  return api
}

// dryRun by default: these tests probe what the view holds, and an admitted non-dryRun object
// would itself be held as pending (test/pending.test.ts) and weigh on the next probe
const validate = async (s: Awaited<ReturnType<typeof startTestServer>>, obj: unknown, o: Parameters<typeof review>[1] = {}) =>
  (await post(s.agent, `${s.url}/validate`, review(obj, { dryRun: true, ...o }))).body.response

t.test('discovery picks served versions and skips absent kinds', async (t) => {
  const api = await fakeApi(t, [...CORE_RESOURCES, ...ISTIO_RESOURCES.map((r) => ({ ...r, version: 'v1beta1' }))])
  const { served, absent } = await discover(kubeConfig(api))
  t.same(served.filter((k) => k.group === 'networking.istio.io').map((k) => k.apiVersion), Array(4).fill('networking.istio.io/v1beta1'))
  t.same(absent.map((k) => k.kind).sort(), ['BackendTLSPolicy', 'GRPCRoute', 'Gateway', 'HTTPRoute', 'ReferenceGrant'])
})

t.test('list is paginated and stripped', async (t) => {
  const api = await fakeApi(t)
  api.seed(
    Array.from({ length: 7 }, (_, i) => ({
      ...virtualService('default', `vs-${i}`, [`h${i}`]),
      metadata: { name: `vs-${i}`, namespace: 'default', managedFields: [{ manager: 'kubectl' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } },
      status: { foo: 'bar' },
    })),
  )
  const kc = kubeConfig(api)
  const vsKind = (await discover(kc)).served.find((k) => k.kind === 'VirtualService')!
  const list = await listKind(kc, vsKind, 3)
  t.equal(list.items.length, 7)
  t.equal(api.requests.filter((r) => r.path.endsWith('/virtualservices')).length, 3, 'three pages of 3')
  const o = list.items[0]!
  t.notOk((o.metadata as Record<string, unknown>).managedFields, 'managedFields dropped')
  t.same(o.metadata?.annotations, { keep: 'me' }, 'last-applied dropped')
  t.notOk(o.status, 'status dropped')
  t.ok(list.metadata.resourceVersion)
})

t.test('strip keeps route parent conditions and turns typed Dates into strings', async (t) => {
  const r = strip(
    { metadata: { name: 'r', creationTimestamp: new Date('2026-01-02T03:04:05Z') as unknown as string }, spec: { x: 1 }, status: { parents: [{ parentRef: { name: 'gw' }, controllerName: 'c', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'long', lastTransitionTime: 'x' }] }] } },
    'gateway.networking.k8s.io/v1',
    'HTTPRoute',
  )
  t.same(r, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', creationTimestamp: '2026-01-02T03:04:05Z' }, spec: { x: 1 }, status: { parents: [{ parentRef: { name: 'gw' }, controllerName: 'c', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] }] } })
  t.equal(WATCHED_KINDS.length, 15)
})

t.test('cluster mode: /readyz 503 until synced; a watched object denies a conflict; its DELETE frees the host', async (t) => {
  const api = await fakeApi(t)
  api.put(virtualService('default', 'reviews', ['reviews']))
  // hold the first VirtualService list back: the view cannot be synced yet
  api.failNext((r) => r.method === 'GET' && r.path.endsWith('/virtualservices') && !r.query.watch, 500, 2)
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), sync: { discoveryIntervalMs: 60_000, watchTimeoutSeconds: 30 } })
  const early = await get(s.agent, `${s.url}/readyz`)
  t.equal(early.status, 503, 'not ready before the informers synced')
  t.match(early.body.reason, /not synced|discovery/)
  const unsyncedAnswer = await validate(s, virtualService('default', 'x', ['x']))
  t.equal(unsyncedAnswer.allowed, false, '--unsynced deny (default): denied while not synced')
  t.match(unsyncedAnswer.status.message, /view is not ready/)
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200), 'ready after the retried list')
  t.ok(s.sync!.status().find((k) => k.kind === 'networking.istio.io/VirtualService')!.restarts >= 1, 'the failed list was retried')

  const conflict = virtualService('default', 'reviews-conflict', ['reviews'])
  const r1 = await validate(s, conflict)
  t.equal(r1.allowed, false, 'the listed object is in the view')
  t.match(r1.status.message, /IST0109.*VirtualService default\/reviews\b/)

  api.put(virtualService('default', 'ratings', ['ratings']))
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'ratings-2', ['ratings']))).allowed === false), 'an object arriving by watch makes a conflicting admission fail')
  api.remove('networking.istio.io/v1', 'VirtualService', 'default', 'ratings')
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'ratings-2', ['ratings']))).allowed === true), 'after its DELETE the same admission passes')
  t.equal(s.view.size('networking.istio.io/VirtualService'), 1)
  t.ok(api.requests.some((r) => r.query.watch === 'true' && r.query.allowWatchBookmarks === 'true' && r.query.timeoutSeconds === '30'), 'watches ask for bookmarks and a timeout')
  t.notOk(api.list('networking.istio.io', 'virtualservices').some((o) => o.metadata.name === 'reviews-conflict'), 'admission never writes to the cluster')
})

t.test('cluster mode: UPDATE judged against the view without the old version', async (t) => {
  const api = await fakeApi(t)
  api.put(virtualService('shop', 'cart', ['cart']))
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api) })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  const upd = await validate(s, virtualService('shop', 'cart', ['cart', 'cart-v2']), { operation: 'UPDATE' })
  t.equal(upd.allowed, true)
})

t.test('cluster mode: survives the API server restarting mid-watch and 410 Gone', async (t) => {
  const api = await fakeApi(t)
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), maxStalenessMs: 60_000 })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  await api.stop()
  api.put(virtualService('default', 'during-outage', ['outage']))
  await api.start()
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'o2', ['outage']))).allowed === false, 20_000), 'the change made while the server was down arrives after the restart')
  api.compact() // the client's resourceVersion is now too old: 410, relist
  api.put(virtualService('default', 'after-compaction', ['compacted']))
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'c2', ['compacted']))).allowed === false, 20_000), 'after 410 the informer relists and sees new objects')
  api.remove('networking.istio.io/v1', 'VirtualService', 'default', 'during-outage')
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'o2', ['outage']))).allowed === true, 20_000))
  const m = await get(s.agent, `${s.url}/metrics`)
  t.match(m.text, /routeguard_informer_restarts\{kind="networking.istio.io\/VirtualService"\} [1-9]/)
  t.match(m.text, /routeguard_informer_seconds_since_last_event\{kind="gateway.networking.k8s.io\/HTTPRoute"\}/)
  t.match(m.text, /routeguard_view_objects\{kind="networking.istio.io\/VirtualService"\} 1/, "only after-compaction is left")
})

t.test('cluster mode: /readyz turns 503 when a watch is down longer than --max-staleness', async (t) => {
  const api = await fakeApi(t)
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), maxStalenessMs: 500 })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  await api.stop()
  const stale = await eventually(async () => {
    const r = await get(s.agent, `${s.url}/readyz`)
    return r.status === 503 ? r : undefined
  })
  t.ok(stale, 'stale view: not ready')
  t.match(stale?.body.reason, /watch for .* down for/)
  await api.start()
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200, 20_000), 'ready again once the watches are back')
})

t.test('cluster mode: a CRD installed later is picked up without restart', async (t) => {
  const api = await fakeApi(t, [...CORE_RESOURCES, ...GATEWAY_API_RESOURCES])
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), sync: { discoveryIntervalMs: 200 } })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200), 'ready without Istio installed')
  t.notOk(s.sync!.status().some((k) => k.kind.startsWith('networking.istio.io')))
  api.serve(...ISTIO_RESOURCES)
  api.put(virtualService('default', 'reviews', ['reviews']))
  t.ok(await eventually(async () => (await validate(s, virtualService('default', 'r2', ['reviews']))).allowed === false), 'Istio kinds watched after their CRDs appeared')
})

t.test('cluster mode with --unsynced allow admits with a warning while not synced', async (t) => {
  const api = await fakeApi(t)
  api.failNext((r) => r.method === 'GET' && r.path.endsWith('/httproutes') && !r.query.watch, 500, 1000)
  const s = await startTestServer(t, { kubeConfig: kubeConfig(api), unsynced: 'allow' })
  const r = await validate(s, virtualService('default', 'x', ['x']))
  t.equal(r.allowed, true)
  t.match(r.warnings[0], /view is not ready/)
})
