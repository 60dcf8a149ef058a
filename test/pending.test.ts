/**
 * Pending writes (the concurrent-apply race, issue #13): unit rows against a ClusterView with a
 * test clock, then the race over TLS in cluster mode with the fake API server holding watch
 * events back.
 */
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { isPendingObject, PENDING_TTL_MS, PendingWrites } from '../src/view/pending.js'
import { ClusterView } from '../src/view/view.js'
import { FakeApiServer } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer, virtualService } from './helpers.js'

const VS = 'networking.istio.io/VirtualService'
const withRv = (o: any, rv: string) => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } })

function setup(ttlMs = 1000) {
  let now = 0
  const view = new ClusterView()
  const expired: string[] = []
  const pending = new PendingWrites(view, { ttlMs, now: () => now, onExpired: (o) => expired.push(o.metadata!.name!) })
  return { view, pending, expired, tick: (ms: number) => (now += ms) }
}

t.test('a CREATE is held until the informer delivers it', async (t) => {
  const { view, pending } = setup()
  pending.admitted('CREATE', virtualService('default', 'a', ['reviews']))
  t.equal(pending.size, 1)
  t.equal([...view.meshHostsExact('reviews.default.svc.cluster.local')].length, 1, 'judged against at once')
  pending.upsert(withRv(virtualService('default', 'a', ['reviews']), '7'))
  t.equal(pending.size, 0, 'delivered: no longer pending')
  t.equal(view.get(VS, 'default', 'a')?.metadata?.resourceVersion, '7', 'the informer object replaces it')
})

t.test('a pending object that is never delivered expires and the view goes back', async (t) => {
  const { view, pending, expired, tick } = setup(1000)
  pending.upsert(withRv(virtualService('default', 'a', ['old-host']), '5'))
  pending.admitted('UPDATE', virtualService('default', 'a', ['new-host']))
  pending.admitted('CREATE', virtualService('default', 'b', ['b']))
  t.equal((view.get(VS, 'default', 'a')?.spec as { hosts?: string[] } | undefined)?.hosts?.[0], 'new-host')
  tick(999)
  pending.sweep()
  t.equal(pending.size, 2, 'not yet')
  tick(1)
  pending.sweep()
  t.equal(pending.size, 0)
  t.same(expired.sort(), ['a', 'b'])
  t.equal((view.get(VS, 'default', 'a')?.spec as { hosts?: string[] } | undefined)?.hosts?.[0], 'old-host', 'the UPDATE rolled back to what the informer had')
  t.notOk(view.get(VS, 'default', 'b'), 'the CREATE is gone')
})

t.test('an UPDATE stays pending while the informer re-delivers the version it replaces (relist)', async (t) => {
  const { view, pending } = setup()
  const old = withRv(virtualService('default', 'a', ['old-host']), '5')
  pending.upsert(old)
  pending.admitted('UPDATE', { ...virtualService('default', 'a', ['new-host']), metadata: { name: 'a', namespace: 'default', resourceVersion: '5' } })
  pending.upsert(old)
  t.equal(pending.size, 1, 'same resourceVersion as before the admission: still pending')
  t.equal((view.get(VS, 'default', 'a')?.spec as { hosts?: string[] } | undefined)?.hosts?.[0], 'new-host')
  pending.upsert(withRv(virtualService('default', 'a', ['new-host']), '6'))
  t.equal(pending.size, 0, 'the next version settles it')
})

t.test('DELETE: an informer delete of an UPDATE drops it; of a CREATE\'s earlier incarnation keeps it; an admitted DELETE drops it', async (t) => {
  const { view, pending } = setup()
  pending.upsert(withRv(virtualService('default', 'u', ['u']), '5'))
  pending.admitted('UPDATE', virtualService('default', 'u', ['u2']))
  pending.remove(withRv(virtualService('default', 'u', ['u']), '9'))
  t.notOk(view.get(VS, 'default', 'u'), 'the updated object was deleted')
  t.equal(pending.size, 0)

  pending.upsert(withRv(virtualService('default', 'c', ['old']), '10'))
  pending.admitted('CREATE', virtualService('default', 'c', ['new']))
  pending.remove(withRv(virtualService('default', 'c', ['old']), '11'))
  t.equal(pending.size, 1, 'the recreated object is still on its way')
  t.equal((view.get(VS, 'default', 'c')?.spec as { hosts?: string[] } | undefined)?.hosts?.[0], 'new')

  pending.admitted('DELETE', virtualService('default', 'c', ['new']))
  t.equal(pending.size, 0)
  t.notOk(view.get(VS, 'default', 'c'), 'no informer object to go back to')
})

t.test('at most `max` pending objects: the oldest expires first', async (t) => {
  const view = new ClusterView()
  const pending = new PendingWrites(view, { ttlMs: 60_000, max: 3 })
  for (let i = 0; i < 5; i++) pending.admitted('CREATE', virtualService('default', `v${i}`, [`h${i}`]))
  t.equal(pending.size, 3)
  t.equal(pending.expired, 2)
  t.notOk(view.get(VS, 'default', 'v0'))
  t.ok(view.get(VS, 'default', 'v4'))
})

t.test('one namespace and one requesting user hold a bounded share: their oldest expire first; the default TTL is a few seconds', async (t) => {
  const view = new ClusterView()
  const pending = new PendingWrites(view, { ttlMs: 60_000, maxPerNamespace: 3, maxPerUser: 4 })
  for (let i = 0; i < 5; i++) pending.admitted('CREATE', virtualService('attacker', `ghost${i}`, [`h${i}`]), `user-${i}`)
  t.equal(pending.size, 3, 'namespace attacker keeps 3')
  t.notOk(isPendingObject(view.get(VS, 'attacker', 'ghost0') ?? ({} as any)), 'its oldest expired')
  t.ok(isPendingObject(view.get(VS, 'attacker', 'ghost4')!))
  for (let i = 0; i < 6; i++) pending.admitted('CREATE', virtualService(`ns${i}`, 'x', [`u${i}`]), 'mallory')
  t.equal([...Array(6).keys()].filter((i) => view.get(VS, `ns${i}`, 'x')).length, 4, 'user mallory keeps 4 across namespaces')
  t.equal(PENDING_TTL_MS, 5_000)
})

t.test('names the API server would not store under are never held', async (t) => {
  const { view, pending } = setup()
  for (const name of ['web-<generated>', '<unnamed>', 'UPPER', 'x'.repeat(254), 'a_b']) pending.admitted('CREATE', virtualService('default', name, ['h']))
  t.equal(pending.size, 0)
  t.equal(view.size(), 0)
  pending.admitted('CREATE', virtualService('default', 'web-7x2k.v1', ['h']))
  t.equal(pending.size, 1)
})

t.test('ttl 0 turns pending writes off', async (t) => {
  const view = new ClusterView()
  const pending = new PendingWrites(view, { ttlMs: 0 })
  pending.admitted('CREATE', virtualService('default', 'a', ['a']))
  t.equal(pending.size, 0)
  t.equal(view.size(), 0)
})

async function fakeApi(t: { teardown: (fn: () => Promise<void>) => void }) {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  return { api, kc }
}

t.test('cluster mode over TLS: the racing pair decided before the informer delivers the first', async (t) => {
  const { api, kc } = await fakeApi(t)
  const s = await startTestServer(t, { kubeConfig: kc, pendingTtlMs: 60_000, sync: { watchTimeoutSeconds: 300 } })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  const validate = async (obj: unknown, o: Parameters<typeof review>[1] = {}) => (await post(s.agent, `${s.url}/validate`, review(obj, o))).body.response

  api.holdWatchEvents()
  const first = virtualService('default', 'reviews-a', ['reviews'])
  const second = virtualService('default', 'reviews-b', ['reviews'])
  // the two reviews go out together, as the API server sends them for two concurrent applies
  const [ra, rb] = await Promise.all([validate(first), validate(second)])
  t.equal([ra, rb].filter((r) => r.allowed).length, 1, 'exactly one of the pair is admitted')
  const [admitted, deniedReview] = ra.allowed ? [first, rb] : [second, ra]
  t.match(deniedReview.status.message, new RegExp(`IST0109.*VirtualService default/${admitted.metadata.name}\\b`), 'the denial names the pending object')
  t.match(deniedReview.status.message, new RegExp(`VirtualService default/${admitted.metadata.name} was admitted \\d+ ms ago and is not stored yet`), 'and says it is not stored yet')
  t.equal(s.pending!.size, 1)
  api.put(admitted) // the API server stores it; its watch event is held back
  const again = await validate(virtualService('default', 'reviews-c', ['reviews']))
  t.equal(again.allowed, false, 'still judged against the pending object')

  // a dryRun review and a denied review leave nothing pending
  t.equal((await validate(virtualService('default', 'dry', ['dry-host']), { dryRun: true })).allowed, true)
  t.equal((await validate(virtualService('default', 'reviews-d', ['reviews']))).allowed, false)
  t.equal(s.pending!.size, 1, 'only the admitted object is pending')
  t.equal((await validate(virtualService('default', 'dry-2', ['dry-host']))).allowed, true, 'the dryRun object was not held')

  api.releaseWatchEvents()
  t.ok(await eventually(() => s.pending!.size === 1 && s.view.get('networking.istio.io/VirtualService', 'default', admitted.metadata.name)?.metadata?.resourceVersion !== undefined), 'the informer delivered the stored object')
  t.ok(isPendingObject(s.view.get('networking.istio.io/VirtualService', 'default', 'dry-2')!), 'the last admitted object is still on its way (never stored)')
  const late = await validate(virtualService('default', 'reviews-e', ['reviews']))
  t.equal(late.allowed, false, 'the stored object keeps denying')
  const m = await get(s.agent, `${s.url}/metrics`)
  t.match(m.text, /routeguard_pending_objects 1/)
})

t.test('cluster mode over TLS: an admitted object never stored stops counting after the TTL', async (t) => {
  const { kc } = await fakeApi(t)
  const s = await startTestServer(t, { kubeConfig: kc, pendingTtlMs: 300 })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  const validate = async (obj: unknown) => (await post(s.agent, `${s.url}/validate`, review(obj))).body.response
  t.equal((await validate(virtualService('default', 'refused', ['ratings']))).allowed, true)
  t.equal((await validate(virtualService('default', 'next', ['ratings']))).allowed, false, 'denied while the first is pending')
  t.ok(await eventually(async () => (await validate(virtualService('default', 'next', ['ratings']))).allowed === true), 'admitted once the first expired')
  const m = await get(s.agent, `${s.url}/metrics`)
  t.match(m.text, /routeguard_pending_expired_total [1-9]/)
})
