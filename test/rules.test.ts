/**
 * Rules as a table, after Istio's analyzer tests: input files → the expected (code, resource)
 * multiset, running only the named rule. Positive and negative cases live in each fixture file
 * (the comments there say which objects must and must not be reported).
 */
import t from 'tap'
import { analyzeObjects, selectRules } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { evaluate } from '../src/engine.js'
import { describeRef, KIND, kindKeyOf, refOf } from '../src/model/object.js'
import { RULES } from '../src/rules/index.js'
import { type CheckContext, DEFAULT_MESH } from '../src/rules/types.js'

const F = 'test/fixtures/rules'

const table: { name: string; files: string[]; rules: string[]; expected: string[] }[] = [
  {
    name: 'IST0109 mesh hosts: FQDN expansion, exportTo, gateway-bound, wildcard scope crossing',
    files: [`${F}/ist0109.yaml`],
    rules: ['IST0109'],
    expected: ['IST0109 VirtualService default/reviews', 'IST0109 VirtualService other/reviews-fqdn', 'IST0109 VirtualService team-c/wild', 'IST0109 VirtualService team-d/scoped'],
  },
  {
    name: 'IST0145 same selector, port, bind and host; not across ports, binds, hosts or workloads',
    files: [`${F}/ist0145.yaml`],
    rules: ['IST0145'],
    expected: ['IST0145 Gateway istio-system/one', 'IST0145 Gateway istio-system/two'],
  },
  {
    name: 'IST0173/IST0174 workloads of every kind and namespace, ServiceEntry selectors and endpoints, empty subsets, wildcard hosts',
    files: [`${F}/ist0173.yaml`],
    rules: ['IST0173', 'IST0174'],
    expected: ['IST0173 DestinationRule shop/orders', 'IST0173 DestinationRule egress-config/api', 'IST0174 DestinationRule default/nowhere'],
  },
  {
    name: "IST0101/IST0132 gateway names as pilot resolves them (name.ns, FQDN, ./name) and match gateways",
    files: [`${F}/ist0101-gateways.yaml`],
    rules: ['virtualservice.GatewayAnalyzer'],
    expected: ['IST0101 VirtualService default/bogus', 'IST0132 VirtualService default/bogus', 'IST0101 VirtualService default/match-gateways'],
  },
  {
    name: 'IST0118 one per badly named port; system namespaces and Istio Services skipped',
    files: [`${F}/ist0118.yaml`],
    rules: ['IST0118'],
    expected: ['IST0118 Service default/web', 'IST0118 Service default/web'],
  },
  {
    name: 'IST0128/IST0129 TLS without caCertificates; IST0134 ServiceEntry addresses; IST0177 conflicting ServiceEntry protocols',
    files: [`${F}/istio-tls-serviceentry.yaml`],
    rules: ['IST0128', 'IST0129', 'IST0134', 'IST0177'],
    expected: [
      'IST0128 DestinationRule default/db-tls',
      'IST0129 DestinationRule default/db-tls',
      'IST0134 ServiceEntry default/no-addresses',
      'IST0134 ServiceEntry default/no-addresses',
      'IST0177 ServiceEntry default/se-http',
      'IST0177 ServiceEntry default/se-https',
    ],
  },
  {
    name: 'IST0101 credentialName looked up in the gateway workload namespace (gateway.SecretAnalyzer)',
    files: [`${F}/istio-gateway-tls.yaml`],
    rules: ['gateway.SecretAnalyzer'],
    expected: ['IST0101 Gateway istio-system/missing-cred'],
  },
  {
    name: 'IST0138 the same certificate on Gateways whose selectors include each other',
    files: [`${F}/ist0138.yaml`],
    rules: ['IST0138'],
    expected: ['IST0138 Gateway istio-system/a', 'IST0138 Gateway istio-system/b', 'IST0138 Gateway istio-system/c', 'IST0138 Gateway istio-system/c'],
  },
  {
    name: 'IST0002 deprecations; IST0171 negative conditions; IST0176 old Gateway API CRDs; IST0116/IST0137 Services of one Deployment; IST0149 JWT claim routing without RequestAuthentication',
    files: [`${F}/istio-more.yaml`],
    rules: ['IST0002', 'IST0171', 'IST0176', 'IST0116', 'IST0137', 'IST0149'],
    expected: [
      'IST0002 VirtualService deprecations/old-fault',
      'IST0002 Sidecar default/egress-proxy',
      'IST0002 CustomResourceDefinition serviceroles.rbac.istio.io',
      'IST0171 HTTPRoute default/rejected',
      'IST0176 CustomResourceDefinition tcproutes.gateway.networking.k8s.io',
      'IST0116 Deployment shop/api',
      'IST0137 Deployment shop/api',
      'IST0149 VirtualService default/claims',
    ],
  },
  {
    name: 'IST0101 host+subset: the most specific wildcard DestinationRule counts when none names the host',
    files: [`${F}/ist0101-wildcard-subsets.yaml`],
    rules: ['virtualservice.DestinationRuleAnalyzer'],
    expected: ['IST0101 VirtualService wildsubsets/missing', 'IST0101 VirtualService wildsubsets/shadowed'],
  },
  {
    name: 'RG0101 identical match and second catch-all on one gateway host, newer reported',
    files: [`${F}/rg0101.yaml`],
    rules: ['RG0101'],
    expected: ['RG0101 VirtualService istio-system/shop-v2', 'RG0101 VirtualService istio-system/shop-v2'],
  },
  {
    name: 'RG0102 mesh VirtualService vs producer HTTPRoute on one Service, both reported; disjoint scopes not',
    files: [`${F}/rg0102.yaml`],
    rules: ['RG0102'],
    expected: ['RG0102 VirtualService bookinfo/reviews', 'RG0102 HTTPRoute bookinfo/reviews'],
  },
  {
    name: 'RG0103 identical matches at equal hostname specificity on a shared listener or Service, newer reported',
    files: [`${F}/rg0103.yaml`],
    rules: ['RG0103'],
    expected: ['RG0103 HTTPRoute team-b/api-b', 'RG0103 HTTPRoute team-b/foo-inherit', 'RG0103 HTTPRoute shop/mesh-b'],
  },
  {
    name: 'RG0104 HTTPRoute and newer GRPCRoute on intersecting hostnames',
    files: [`${F}/rg0104.yaml`],
    rules: ['RG0104'],
    expected: ['RG0104 GRPCRoute app/grpc'],
  },
  {
    name: 'RG0105 DestinationRules merged per namespace and host, oldest first: dropped subsets and traffic policy of the newer',
    files: [`${F}/rg0105.yaml`],
    rules: ['RG0105'],
    expected: ['RG0105 DestinationRule default/reviews-new', 'RG0105 DestinationRule default/reviews-new'],
  },
  {
    name: 'RG0501 the same destination twice in one route; RG0405 a subset without labels (Kiali KIA1105, KIA0209)',
    files: [`${F}/hygiene.yaml`],
    rules: ['RG0501', 'RG0405'],
    expected: ['RG0501 VirtualService hygiene/split', 'RG0501 HTTPRoute hygiene/split-route', 'RG0405 DestinationRule hygiene/reviews'],
  },
  {
    name: 'RG0502 regular expressions RE2 refuses, in every match and rewrite field; valid RE2 (even catastrophic for backtracking) and non-regex values pass',
    files: [`${F}/rg0502.yaml`],
    rules: ['RG0502'],
    expected: ['RG0502 VirtualService regex/lookahead', 'RG0502 VirtualService regex/backref', 'RG0502 VirtualService regex/backref', 'RG0502 HTTPRoute regex-route/lookbehind', 'RG0502 GRPCRoute regex-grpc/bad-method'],
  },
  {
    name: 'listener route kinds by group and protocol (TLS Passthrough takes no TCPRoute), from: Selector without a selector: one model for attachment (RG0202) and listener status (RG0211)',
    files: [`${F}/listener-kinds.yaml`],
    rules: ['RG0202', 'RG0211'],
    expected: ['RG0211 Gateway kinds-infra/foreign-kinds', 'RG0211 Gateway kinds-infra/passthrough', 'RG0202 HTTPRoute kinds-apps/to-foreign', 'RG0202 HTTPRoute kinds-apps/to-no-selector'],
  },
  {
    name: 'RG0201-RG0208 predicted route status: each reason once, a correct route none',
    files: [`${F}/route-status.yaml`],
    rules: ['RG0201', 'RG0202', 'RG0203', 'RG0204', 'RG0205', 'RG0206', 'RG0207', 'RG0208'],
    expected: [
      'RG0202 HTTPRoute other/wrong-ns',
      'RG0205 HTTPRoute other/wrong-ns',
      'RG0201 HTTPRoute apps/many-problems',
      'RG0203 HTTPRoute apps/many-problems',
      'RG0204 HTTPRoute apps/many-problems',
      'RG0206 HTTPRoute apps/many-problems',
      'RG0207 HTTPRoute apps/many-problems',
      'RG0208 HTTPRoute apps/bad-method',
    ],
  },
  {
    name: 'RG0209-RG0211 predicted Gateway status: indistinct listeners, a shared IP address, invalid listeners, Gateways merged on one address',
    files: [`${F}/gateway-listeners.yaml`],
    rules: ['RG0209', 'RG0210', 'RG0211'],
    expected: [
      'RG0209 Gateway infra/conflicts',
      'RG0209 Gateway infra/conflicts',
      'RG0209 Gateway infra/conflicts',
      'RG0209 Gateway infra/conflicts',
      'RG0209 Gateway infra/conflicts',
      'RG0209 Gateway infra/conflicts',
      'RG0210 Gateway infra/newer-ip',
      'RG0211 Gateway infra/bad-refs',
      'RG0211 Gateway infra/bad-refs',
      'RG0211 Gateway infra/bad-refs',
      'RG0211 Gateway infra/bad-refs',
      'RG0209 Gateway infra/merged-a',
      'RG0209 Gateway infra/merged-b',
    ],
  },
]

for (const row of table) {
  t.test(row.name, async (t) => {
    const loaded = loadObjects(row.files, 'default')
    t.same(loaded.problems, [], 'fixtures parse')
    const { findings } = analyzeObjects(loaded.objects, { rules: selectRules(row.rules) })
    const got = findings.map((f) => `${f.code} ${describeRef(f.resource)}`).sort()
    t.same(got, [...row.expected].sort())
    for (const f of findings) {
      t.ok(f.message.startsWith(`${f.code}: `), 'message starts with its code')
      if (/^(IST0109|IST0145|RG01)/.test(f.code)) t.ok(f.related.length > 0, 'names the conflicting objects')
      for (const r of f.related) t.ok(f.message.includes(`${r.kind} ${r.namespace}/${r.name}`), `message names ${r.kind} ${r.namespace}/${r.name}`)
    }
  })
}

t.test('RG0103 message names the conflicting route, host, parent and match', async (t) => {
  const { findings } = analyzeObjects(loadObjects([`${F}/rg0103.yaml`]).objects, { rules: selectRules(['RG0103']) })
  const f = findings.find((x) => x.resource.name === 'api-b')!
  t.equal(f.path, 'spec.rules[0].matches[0]')
  t.match(f.message, /HTTPRoute team-a\/api-a/)
  t.match(f.message, /api\.example\.com/)
  t.match(f.message, /Gateway infra\/web listener http/)
  t.match(f.message, /PathPrefix \/v1, header x-env = prod/)
})

t.test('admission mode: the object under review is the newest, so an older one is denied too', async (t) => {
  const { view } = analyzeObjects(loadObjects([`${F}/rg0103.yaml`]).objects, { rules: [] })
  const apiA = view.get(KIND.HTTPRoute, 'team-a', 'api-a')!
  const audit = evaluate(apiA, view, { mode: 'audit', rules: selectRules(['RG0103']) })
  t.same(audit, [], 'in the audit the older route is not the loser')
  const admission = evaluate(apiA, view, { mode: 'admission', rules: selectRules(['RG0103']) })
  t.equal(admission.length, 1, 're-applying it is judged against the route already there')
  t.match(admission[0]!.message, /HTTPRoute team-b\/api-b/)
})

t.test('predicted conditions per parentRef carry the Gateway API reasons', async (t) => {
  const { predictRouteStatus } = await import('../src/status/route-status.js')
  const { view } = analyzeObjects(loadObjects([`${F}/route-status.yaml`]).objects, { rules: [] })
  const cond = (ns: string, name: string) => predictRouteStatus(view.get(KIND.HTTPRoute, ns, name)!, view).parents.map((p) => `${p.parentRef.name}${p.parentRef.port ? `:${p.parentRef.port}` : ''} ${p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ')}`)
  t.same(cond('apps', 'ok'), ['gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs'])
  t.same(cond('other', 'wrong-ns'), ['gw Accepted=False/NotAllowedByListeners ResolvedRefs=False/BackendNotFound'])
  t.same(cond('apps', 'many-problems'), [
    'gw Accepted=False/NoMatchingListenerHostname ResolvedRefs=False/RefNotPermitted',
    'gw:8080 Accepted=False/NoMatchingParent ResolvedRefs=False/RefNotPermitted',
    'missing Accepted=Unknown/Pending ResolvedRefs=False/RefNotPermitted',
  ])
  t.same(cond('apps', 'bad-method'), ['gw Accepted=False/UnsupportedValue ResolvedRefs=True/ResolvedRefs'])
  // in an evaluation, route status starts from the attachments the conflict rules computed
  const { subjectAttachments } = await import('../src/status/attachment.js')
  for (const r of view.all()) {
    if (kindKeyOf(r) !== KIND.HTTPRoute) continue
    const ctx: CheckContext = { view, implementation: undefined as never, mesh: DEFAULT_MESH, olderThanSubject: () => true, pass: (f) => f(r, ctx) }
    t.same(predictRouteStatus(r, view, subjectAttachments(r, ctx)), predictRouteStatus(r, view), `${describeRef(refOf(r))}: same status from the shared attachments`)
  }
})

t.test('RG0301: features the implementation does not claim, and Istio translation hard errors', async (t) => {
  const { resolveImplementation } = await import('../src/features/features.js')
  const run = (impl: string) =>
    analyzeObjects(loadObjects([`${F}/rg0301.yaml`]).objects, { rules: selectRules(['RG0301']), implementation: resolveImplementation(impl) }).findings.map((f) => `${f.resource.name} ${f.path}`).sort()
  t.same(run('istio'), ['mesh-route spec.rules[0].backendRefs[0].filters[0]', 'mesh-route spec.rules[0].filters[0]', 'with-retry spec.rules[0].retry'], 'Istio: retry unclaimed; ExtensionRef and a mirror on a backendRef are hard errors')
  t.same(run('envoy-gateway'), ['mesh-route spec.parentRefs'], 'Envoy Gateway: retry is fine, but it claims no mesh support')
  t.same(run('linkerd'), ['with-retry spec.rules[0].retry'], 'Linkerd: mesh claimed, retry not; no Istio translation errors')
  t.same(run('istio@1.20'), run('istio'), 'a versioned report can be chosen')
  t.throws(() => resolveImplementation('traefik'), /unknown implementation traefik/)
  t.throws(() => resolveImplementation('istio@0.1'), /no conformance report for istio@0.1/)
})

t.test('selectRules takes codes and Istio analyzer names, and refuses unknown names', async (t) => {
  t.same(selectRules(['schema.ValidationAnalyzer.VirtualService']).map((r) => r.code), ['IST0130', 'IST0131'])
  t.same(selectRules(['RG0103', 'IST0109']).map((r) => r.code), ['IST0109', 'RG0103'])
  t.throws(() => selectRules(['IST9999']), /unknown rule or analyzer: IST9999/)
})

t.test('every rule declares metadata and a catalogue entry', async (t) => {
  for (const r of RULES) {
    t.ok(r.subjects.length > 0, `${r.code} has subjects`)
    t.match(r, { name: /^[A-Z]\w+$/, severity: /^(error|warning|info)$/, description: /\w/ }, `${r.code} has name, severity, description`)
    t.ok(Array.isArray(r.inputs), `${r.code} declares inputs`)
  }
})

t.test('IST0130/IST0131: unreachable rules and ineffective matches within one VirtualService', async (t) => {
  const vs = (http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'n' }, spec: { hosts: ['h'], http } })
  const run = (http: unknown[]) =>
    analyzeObjects([{ object: vs(http), source: { file: 'x', line: 1 } }], { rules: selectRules(['IST0130', 'IST0131']) }).findings.map((f) => `${f.code} ${f.path}`)
  const route = [{ destination: { host: 'x' } }]
  t.same(run([{ route }, { route }]), ['IST0130 spec.http[1]'], 'two catch-alls')
  t.same(run([{ match: [{ uri: { exact: '/a' } }], route }, { match: [{ uri: { exact: '/a' } }], route }]), ['IST0130 spec.http[1]', 'IST0131 spec.http[1].match[0]'], 'duplicate match')
  t.same(run([{ match: [{ uri: { prefix: '/api' } }], route }, { match: [{ uri: { prefix: '/api/v1' } }], route }]), ['IST0131 spec.http'], 'covered prefix')
  t.same(run([{ match: [{ uri: { prefix: '/api' }, headers: { a: { exact: '1' } } }], route }, { match: [{ uri: { prefix: '/api/v1' }, headers: { a: { exact: '2' } } }], route }]), [], 'different header values: not covered')
  t.same(run([{ match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' } }], route }, { match: [{ uri: { prefix: '/api/v1' }, method: { exact: 'POST' } }], route }]), [], 'different methods: not covered')
  t.same(run([{ match: [{ uri: { exact: '/a' } }], route }, { match: [{ uri: { exact: '/b' } }], route }, { route }]), [], 'disjoint matches and a final catch-all')
})

t.test('RG0503 NamespaceNotFound: exportTo and ReferenceGrant from name namespaces that exist, judged only when Namespaces are known', async (t) => {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'shop' }, spec: { hosts: ['reviews'], exportTo: ['.', 'shpo', 'team-a', '*'] } }
  const grant = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'shop' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'gone' }], to: [{ group: '', kind: 'Service' }] } }
  const run = (objs: unknown[]) => analyzeObjects(objs.map((object) => ({ object: object as never, source: { file: 'x', line: 1 } })), { rules: selectRules(['RG0503']) }).findings.map((f) => `${f.resource.kind} ${f.path}: ${f.message}`)
  t.same(run([ns('shop'), ns('team-a'), vs, grant]), [
    'VirtualService spec.exportTo[1]: RG0503: VirtualService shop/r spec.exportTo[1]: namespace shpo does not exist; no namespace of that name sees this VirtualService.',
    'ReferenceGrant spec.from[0].namespace: RG0503: ReferenceGrant shop/g spec.from[0].namespace: namespace gone does not exist; the grant lets nothing reference these objects yet.',
  ])
  t.same(run([vs, grant]), [], 'files without Namespaces: nothing is judged')
})

t.test('RG0406 SubsetSelectsNoEndpoint: the Service\'s own Pods filtered by the subset labels; only where IST0173 is silent', async (t) => {
  const svc = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: ns }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] } })
  const deploy = (ns: string, name: string, labels: Record<string, string>) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } } })
  const dr = (ns: string, host: string) => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews', namespace: ns }, spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }] } })
  const run = (objs: unknown[]) => analyzeObjects(objs.map((object) => ({ object: object as never, source: { file: 'x', line: 1 } })), { rules: selectRules(['RG0406', 'IST0173']) }).findings.map((f) => f.message)
  // the version: v1 Pods are in another namespace
  t.match(run([svc('different-ns'), dr('different-ns', 'reviews'), deploy('different-ns', 'reviews-v2', { app: 'reviews', version: 'v2' }), deploy('other', 'reviews-v1', { app: 'reviews', version: 'v1' })]), [
    /^RG0406: DestinationRule different-ns\/reviews subset v1 of reviews selects no endpoint of Service different-ns\/reviews: its Pods .* carry no \{"version":"v1"\}; Pods with those labels are Deployment other\/reviews-v1; requests routed to it get 503\.$/,
  ])
  // a subset label only Pods of another app carry
  t.match(run([svc('shop'), dr('shop', 'reviews'), deploy('shop', 'reviews-v2', { app: 'reviews', version: 'v2' }), deploy('shop', 'ratings-v1', { app: 'ratings', version: 'v1' })]), [/RG0406: .*Pods with those labels are Deployment shop\/ratings-v1/])
  t.same(run([svc('shop'), dr('shop', 'reviews'), deploy('shop', 'reviews-v1', { app: 'reviews', version: 'v1' })]), [], 'its own Pods have the labels: nothing')
  t.match(run([svc('shop'), dr('shop', 'reviews'), deploy('shop', 'reviews-v2', { app: 'reviews', version: 'v2' })]), [/^IST0173/], 'no Pod anywhere: IST0173 speaks, not RG0406')
})
