/** The view: identity, replacement, removal leaving no residue in any index. */
import t from 'tap'
import { loadObjects, parseExact, parseFast, parseObjects } from '../src/analyze/load.js'
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

t.test('YAML: the fast path (js-yaml) reads what the exact path (yaml) reads, lines included', async (t) => {
  const same = {
    'documents, comments, empty documents and a scalar': '# c\n\n---\n# only a comment\n---\nkind: A\nmetadata: {name: a}\n---\n- 1\n---\nplain\n---\n',
    'YAML 1.2 core scalars': 'a: yes\nb: 0755\nc: 1_000\nd: 2020-01-01T00:00:00Z\ne: ~\nf: .5\ng: 0o17\nh: 0x1F\ni: +12\nj: 1e3\nn: 12.0\no: NULL\np: True\nq: "*.example.com"\n',
    'duplicate keys: the last wins': 'kind: A\nkind: B\n',
    'block scalars holding a document marker': 'kind: A\na: |\n  x\n  ---\n  y\nb: >-\n  folded\n  text\n',
    '__proto__ and constructor keys stay plain keys': 'kind: A\n__proto__:\n  polluted: 1\nmetadata:\n  constructor: {prototype: {x: 1}}\n',
    'flow and complex keys': 'kind: A\n? complex\n: v\nflow: {a: [1, 2, {b: c}]}\n',
    'Lists: each item its own line, bad items reported': 'apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata:\n    name: b\n-\n  kind: C\n- 7\n- [1]\nmetadata: {}\n---\nkind: PodList\nmetadata:\n  x: [1, 2]\nitems:\n  - kind: A\n    spec:\n      l: [a, b]\n  - {kind: B}\n',
  }
  for (const [name, text] of Object.entries(same)) {
    const fast = parseFast(text, 'f.yaml')
    t.ok(fast, `${name}: read on the fast path`)
    t.same(fast, parseExact(text, 'f.yaml'), `${name}: same objects, lines and problems`)
  }
  t.equal(({} as { polluted?: unknown }).polluted, undefined, 'no prototype touched')
  t.same(Object.keys(parseFast(same['__proto__ and constructor keys stay plain keys']!, 'f.yaml')!.objects[0]!.object), ['kind', '__proto__', 'metadata'])
  t.same(parseFast(same['Lists: each item its own line, bad items reported']!, 'f.yaml')!.objects.map((o) => o.source.line), [4, 6, 10, 19, 22], 'first lines of the items')
  const exactOnly = {
    'an anchor (aliases stay under the alias limit)': 'kind: A\na: &x 1\nb: *x\n',
    'an alias without its anchor': 'kind: A\na: *undefined\n',
    'a syntax error': 'kind: [A\n',
    'a tab where indentation is expected': 'kind: A\n\tbad: tab\n',
    '-.5, read as a string by js-yaml': 'kind: A\nv: -.5\n',
    '0b101, read as 5 by js-yaml': 'kind: A\nv: 0b101\n',
    'an explicit tag (!!float 1)': 'kind: A\nv: !!float 1\n',
    'a %YAML 1.1 directive (yes is true)': '%YAML 1.1\n---\nkind: A\nv: yes\n',
    'a custom tag': 'kind: A\nv: !custom x\n',
  }
  for (const [name, text] of Object.entries(exactOnly)) t.equal(parseFast(text, 'f.yaml'), undefined, `${name}: left to the exact path`)
  t.match(parseObjects(exactOnly['an alias without its anchor']!, 'f.yaml').problems, [{ source: { file: 'f.yaml', line: 1 }, message: /alias/i }], 'an unresolved alias is a problem, not a crash')
  t.same((parseObjects(exactOnly['-.5, read as a string by js-yaml']!, 'f.yaml').objects[0]!.object as { v: unknown }).v, -0.5)
})

t.test('YAML: the two paths agree on generated documents (fast-check)', async (t) => {
  const fc = (await import('fast-check')).default
  const { stringify } = await import('yaml')
  const jsyaml = (await import('js-yaml')).default
  // scalars as people write them unquoted, to reach both parsers' type resolution
  const plain = fc.constantFrom('yes', 'no', 'on', 'null', '~', 'True', '0755', '0o17', '0x1F', '1_000', '.5', '-.5', '1e3', '.inf', '-.Inf', '.NaN', '12:30', '2020-01-01', '0b101', '+1', '-0', '1.', '"q"', "'s'", '*.example.com')
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), plain, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('v'), { maxKeys: 3 })),
  })).v
  const doc = fc.record({ kind: fc.constantFrom('A', 'List'), spec: value, items: fc.array(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), value, { maxKeys: 3 }), { maxLength: 3 }) })
  let fast = 0
  fc.assert(
    fc.property(fc.array(doc, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.array(plain, { maxLength: 4 }), (docs, useJsYaml, extra) => {
      const text = docs.map((d) => (useJsYaml ? jsyaml.dump(d) : stringify(d))).join('---\n') + extra.map((p, i) => `x${i}: ${p}\n`).join('')
      const a = parseFast(text, 'g.yaml')
      if (a === undefined) return true
      fast++
      const b = parseExact(text, 'g.yaml')
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`paths differ on:\n${text}\nfast ${JSON.stringify(a)}\nexact ${JSON.stringify(b)}`)
      return true
    }),
    { numRuns: 2000 },
  )
  t.ok(fast > 500, `${fast} of 2000 generated files read on the fast path and compared`)
})

t.test('workloads: Pods and Pod templates by label, replaced and removed without residue', async (t) => {
  const view = new ClusterView()
  const objs = loadObjects(['test/fixtures/rules/ist0173.yaml'], 'default').objects.map((o) => o.object)
  for (const o of objs) view.upsert(o)
  const names = (sel: Record<string, string>) => [...view.workloadsSelected(sel)].map((w) => `${w.kind} ${w.namespace}/${w.obj.metadata?.name}`).sort()
  t.same(names({ app: 'orders' }), [
    'apps/Deployment shop/orders-v1',
    'apps/StatefulSet shop/orders-v2',
    'argoproj.io/Rollout shop/orders-canary',
    'batch/CronJob shop/orders-batch',
  ], "templates' labels, the CronJob's under jobTemplate")
  t.same(names({ version: 'v1' }), ['/Pod default/api-proxy-1', 'apps/Deployment shop/orders-v1'], 'any namespace')
  const dep = view.get(KIND.Deployment, 'shop', 'orders-v1')!
  view.upsert({ ...dep, spec: { template: { metadata: { labels: { app: 'orders', version: 'v1b' } } } } })
  t.same(names({ version: 'v1' }), ['/Pod default/api-proxy-1'], 'a replaced template no longer answers for its old labels')
  t.same(names({ version: 'v1b' }), ['apps/Deployment shop/orders-v1'])
  for (const o of objs) view.remove(o)
  t.same(names({}), [], 'nothing left')
  t.notOk(view.anyWorkloadSelected({ app: 'orders' }))
})
