/** The view: identity, replacement, removal leaving no residue in any index. */
import t from 'tap'
import { loadObjects, parseObjects, parseYaml } from '../src/analyze/load.js'
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

/** What `parseYaml` gives, without the YAML nodes (compared on their own in lines.test.ts). */
function plain(text: string) {
  const r = parseYaml(text, 'f.yaml')
  return { objects: r.objects.map((o) => ({ object: o.object, line: o.source.line })), problems: r.problems.map((p) => `${p.source.line}: ${p.message}`) }
}

t.test('YAML: objects, first lines and problems, as YAML 1.2 reads them', async (t) => {
  t.same(plain('# c\n\n---\n# only a comment\n---\nkind: A\nmetadata: {name: a}\n---\n- 1\n---\nplain\n---\n'), {
    objects: [{ object: { kind: 'A', metadata: { name: 'a' } }, line: 6 }],
    problems: ['9: document is not a Kubernetes object (a mapping)', '11: document is not a Kubernetes object (a mapping)'],
  }, 'comments and empty documents skipped, scalars and sequences reported')
  t.same(plain('a: yes\nb: 0755\nc: 1_000\nd: 2020-01-01T00:00:00Z\ne: ~\nf: .5\ng: 0o17\nh: 0x1F\ni: +12\nj: 1e3\nn: 12.0\no: NULL\np: True\nq: "*.example.com"\nr: -.5\ns: 0b101\n').objects[0]!.object,
    { a: 'yes', b: 755, c: '1_000', d: '2020-01-01T00:00:00Z', e: null, f: 0.5, g: 15, h: 31, i: 12, j: 1000, n: 12, o: null, p: true, q: '*.example.com', r: -0.5, s: '0b101' }, 'YAML 1.2 core scalars')
  t.same(plain('%YAML 1.1\n---\nkind: A\nv: yes\n').objects[0]!.object, { kind: 'A', v: true }, 'a %YAML 1.1 directive is honoured')
  t.same(plain('kind: A\nkind: B\n').objects[0]!.object, { kind: 'B' }, 'duplicate keys: the last wins')
  t.same(plain('kind: A\na: |\n  x\n  ---\n  y\nb: >-\n  folded\n  text\n').objects[0]!.object, { kind: 'A', a: 'x\n---\ny\n', b: 'folded text' }, 'block scalars holding a document marker')
  const proto = plain('kind: A\n__proto__:\n  polluted: 1\nmetadata:\n  constructor: {prototype: {x: 1}}\n').objects[0]!.object
  t.same(Object.keys(proto), ['kind', '__proto__', 'metadata'], '__proto__ stays a plain key')
  t.equal(({} as { polluted?: unknown }).polluted, undefined, 'no prototype touched')
  t.same(plain('kind: A\na: &x 1\nb: *x\n').objects[0]!.object, { kind: 'A', a: 1, b: 1 }, 'an anchor and its alias')
  t.same(
    plain('apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata:\n    name: b\n-\n  kind: C\n- 7\n- [1]\nmetadata: {}\n---\nkind: PodList\nmetadata:\n  x: [1, 2]\nitems:\n  - kind: A\n    spec:\n      l: [a, b]\n  - {kind: B}\n'),
    {
      objects: [4, 6, 10, 19, 22].map((line, i) => ({ object: [{ kind: 'A', metadata: { name: 'a' } }, { kind: 'B', metadata: { name: 'b' } }, { kind: 'C' }, { kind: 'A', spec: { l: ['a', 'b'] } }, { kind: 'B' }][i], line })),
      problems: ['11: List item is not a Kubernetes object', '12: List item is not a Kubernetes object'],
    },
    'Lists: each item its own line, bad items reported',
  )
  t.match(plain('kind: A\na: *undefined\n').problems, [/^1: .*alias/i], 'an unresolved alias is a problem, not a crash')
  t.match(plain('kind: [A\n').problems, [/^\d+: /], 'a syntax error is a problem with its line')
  t.match(plain('kind: A\n\tbad: tab\n').problems, [/^2: /], 'a tab where indentation is expected')
  const aliases = `kind: A\na: &a [x]\nb: [${Array.from({ length: 200 }, () => '*a').join(', ')}]\n`
  t.match(plain(aliases).problems, [/alias/i], 'more aliases than the limit: a problem, not an expansion')
  t.match(parseObjects('{"kind": "A"}', 'f.json').objects, [{ object: { kind: 'A' }, source: { file: 'f.json', line: 1 } }], 'JSON files read as JSON')
  t.match(parseObjects('kind: A\n', 'f.json').objects, [{ object: { kind: 'A' } }], 'a .json file that is YAML is still read')
})

t.test('YAML: generated documents read back as written, each object at its first line (fast-check)', async (t) => {
  const fc = (await import('fast-check')).default
  const { stringify } = await import('yaml')
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__'), tie('v'), { maxKeys: 3 })),
  })).v
  const doc = fc.record({ kind: fc.constantFrom('A', 'B'), spec: value })
  fc.assert(
    fc.property(fc.array(doc, { minLength: 1, maxLength: 3 }), (docs) => {
      const texts = docs.map((d) => stringify(d))
      const r = parseYaml(texts.join('---\n'), 'g.yaml')
      if (r.problems.length || JSON.stringify(r.objects.map((o) => o.object)) !== JSON.stringify(docs)) throw new Error(`read differently:\n${texts.join('---\n')}`)
      let line = 1
      r.objects.forEach((o, i) => {
        if (o.source.line !== line) throw new Error(`object ${i} at line ${o.source.line}, expected ${line}`)
        line += texts[i]!.split('\n').length
      })
      return true
    }),
    { numRuns: 500 },
  )
  t.pass('500 generated files read back')
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
