/** The view: identity, replacement, removal leaving no residue in any index. */
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadObjects } from '../src/analyze/load.js'
import { KIND } from '../src/model/object.js'
import { ClusterView, parentKey, routeMatchKey } from '../src/view/view.js'
import { route } from '../src/model/gatewayapi.js'

const fixtures = ['test/fixtures/rules/ist0109.yaml', 'test/fixtures/rules/ist0145.yaml', 'test/fixtures/rules/rg0101.yaml', 'test/fixtures/rules/rg0103.yaml', 'test/fixtures/rules/rg0104.yaml']

t.test('upsert replaces by identity; remove takes back every posting', async (t) => {
  const view = new ClusterView()
  const objs = loadObjects(fixtures, 'default').objects.map((o) => o.object)
  for (const o of objs) t.ok(view.upsert(o))
  t.equal(view.size(), objs.length)
  t.equal(view.size(KIND.VirtualService), 13, "8 in ist0109.yaml, 5 in rg0101.yaml")
  // replacing changes what the indexes answer
  const reviews = view.get(KIND.VirtualService, 'default', 'reviews')!
  t.ok([...view.meshHostsExact('reviews.default.svc.cluster.local')].some((p) => p.obj === reviews))
  view.upsert({ ...reviews, spec: { hosts: ['details'] } })
  t.notOk([...view.meshHostsExact('reviews.default.svc.cluster.local')].some((p) => p.obj.metadata?.name === 'reviews' && p.obj.metadata?.namespace === 'default'), 'old host gone after replace')
  t.equal(view.size(), objs.length, 'replace keeps the count')
  const apiA = view.get(KIND.HTTPRoute, 'team-a', 'api-a')!
  const r = route(apiA)
  const key = routeMatchKey(KIND.HTTPRoute, r.parentRefs[0]!, 'api.example.com', r.matches[0]!.sig)
  t.equal([...view.routeMatches(key)].length, 2, 'api-a and api-b share a match bucket')
  t.equal([...view.routesOnParent(KIND.HTTPRoute, parentKey(r.parentRefs[0]!), 'api.example.com')].length >= 2, true)
  for (const o of objs) view.remove(o)
  t.equal(view.size(), 0)
  t.equal([...view.meshHostsMatching('*')].length, 0, 'mesh host index empty')
  t.equal([...view.routeMatches(key)].length, 0, 'route match index empty')
  t.equal([...view.routesOnParent(KIND.HTTPRoute, parentKey(r.parentRefs[0]!), undefined)].length, 0, 'parent index empty')
  t.equal([...view.istioGatewaysOnPort(443)].length, 0, 'gateway port index empty')
  t.notOk(view.upsert({ kind: 'VirtualService' }), 'an object without a name is not stored')
})

t.test('loading on worker threads gives what loading on one thread gives, in the same order', async (t) => {
  // the built module: the worker script exists only in dist/
  const built = (await import(join(process.cwd(), 'dist/analyze/load.js'))) as typeof import('../src/analyze/load.js')
  const dir = mkdtempSync(join(tmpdir(), 'routeguard-load-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const doc = (i: number) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs-${i}\nspec:\n  hosts: [h-${i}]\n  http:\n  - route:\n    - destination: {host: h-${i}}\n`
  let bytes = 0
  for (let f = 0; f < 5; f++) {
    const text = Array.from({ length: 1500 }, (_, i) => doc(f * 1500 + i)).join('---\n') + (f === 2 ? '---\nkind: [broken\n' : '')
    bytes += text.length
    writeFileSync(join(dir, `part-${f}.yaml`), text)
  }
  t.ok(bytes > built.PARALLEL_MIN_BYTES, 'enough input for the parallel path')
  const one = built.loadObjects([dir], 'apps')
  const many = await built.loadObjectsInParallel([dir], 'apps')
  t.equal(many.objects.length, 7500)
  t.same(many.objects, one.objects, 'same objects, sources and order')
  t.same(many.problems, one.problems, 'the broken document is reported the same way')
  t.equal(many.problems.length, 1)
  t.equal(many.objects[4321]!.object.metadata!.namespace, 'apps', 'default namespace applied')
})
