/** routeguard convert: what maps, what is approximated, and that nothing is dropped silently. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments, stringify } from 'yaml'
import { convert, corsFromCrds, GATEWAY_API_REDIRECT_CODES, regrant, GATEWAY_API_RELEASES, gatewayDuration, nearestRedirectCode, redirectCodesFromCrds, routeVersionsFromCrds } from '../src/convert/convert.js'
import { analyzeObjects, selectRules } from '../src/analyze/analyze.js'
import { regexExample } from '../src/routing/examples.js'
import { runCli, tempDir } from './helpers.js'

const svc = (name: string, ports = [{ name: 'http', port: 8080 }]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector: { app: name }, ports } })

const vs = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    hosts: ['shop.example.com'],
    gateways: ['istio-system/public'],
    http: [
      { name: 'old-api', match: [{ uri: { prefix: '/v1' } }], redirect: { uri: '/v2', redirectCode: 308 } },
      { match: [{ uri: { prefix: '/api' } }, { uri: { prefix: '/rest' } }], rewrite: { uri: '/' }, route: [{ destination: { host: 'api' } }], timeout: '5s' },
      { match: [{ headers: { 'x-user': { prefix: 'test-' } } }], route: [{ destination: { host: 'web', subset: 'canary' }, weight: 10 }, { destination: { host: 'web' }, weight: 90 }], mirror: { host: 'shadow', port: { number: 9000 } }, mirrorPercentage: { value: 5 } },
      { route: [{ destination: { host: 'web' } }], retries: { attempts: 3 }, fault: { delay: { fixedDelay: '1s', percentage: { value: 1 } } } },
    ],
  },
}
const dr = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'canary', labels: { track: 'canary' } }] } }
const gw = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'istio-system' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wildcard-cert' } }] } }

t.test('a gateway VirtualService with redirect, rewrite, subsets, mirror, retries and faults', async (t) => {
  const { objects, gaps } = convert([vs, dr, gw, svc('api'), svc('web'), svc('shadow', [{ name: 'grpc', port: 9000 }])] as never)
  const route = objects.find((o) => o.kind === 'HTTPRoute') as any
  t.same(route.spec.parentRefs, [{ name: 'public', namespace: 'istio-system' }])
  t.same(route.spec.hostnames, ['shop.example.com'])
  const [redirect, rewriteA, rewriteB, split, plain] = route.spec.rules
  t.same(redirect, { name: 'old-api', matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/v2' }, statusCode: 308 } }] }, 'redirect without backendRefs')
  t.same(rewriteA.matches, [{ path: { type: 'PathPrefix', value: '/api' } }], 'ReplacePrefixMatch: one PathPrefix match per rule')
  t.same(rewriteB.matches, [{ path: { type: 'PathPrefix', value: '/rest' } }])
  t.same(rewriteA.filters, [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }])
  t.same(rewriteA.timeouts, { request: '5s' })
  t.same(rewriteA.backendRefs, [{ name: 'api', port: 8080 }], 'port taken from the single-port Service; no weight written when none was set')
  t.same(split.matches, [{ headers: [{ name: 'x-user', type: 'RegularExpression', value: '^test-.*' }] }], 'header prefix approximated by a regex')
  t.same(split.backendRefs, [{ name: 'web-canary', port: 8080, weight: 10 }, { name: 'web', port: 8080, weight: 90 }], 'weights kept; subset → per-subset Service')
  t.same(split.filters, [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 9000 }, percent: 5 } }])
  t.same(plain.backendRefs, [{ name: 'web', port: 8080 }])
  const generated = objects.find((o) => o.kind === 'Service' && o.metadata?.name === 'web-canary') as any
  t.same(generated.spec.selector, { app: 'web', track: 'canary' })
  const gateway = objects.find((o) => o.kind === 'Gateway') as any
  t.same(gateway.spec.listeners, [{ name: 'https-443-0', port: 443, protocol: 'HTTPS', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' } }, tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'wildcard-cert' }] } }])
  const features = gaps.map((g) => `${g.feature} ${g.path}`)
  for (const f of ['retries spec.http[3].retries', 'fault.delay spec.http[3].fault.delay', 'headers.prefix spec.http[2].match[0].headers.x-user.prefix', 'uri.prefix spec.http[1].match', 'subset spec.http[2]']) {
    t.ok(features.includes(f), `reported: ${f}`)
  }
  const rg = analyzeObjects([{ object: vs as never, source: { file: 'x', line: 1 } }], { rules: selectRules(['RG0302']) }).findings
  t.same(rg.map((f) => f.path).sort(), gaps.filter((g) => g.resource === 'VirtualService shop/web' && !['uri.prefix', 'redirect.redirectCode', 'routing'].includes(g.feature)).map((g) => g.path).sort(), 'RG0302 reports the same features as convert')
})

t.test('a mesh VirtualService gets a Service parentRef; missing ports are reported, not invented (#26 B8: nor written)', async (t) => {
  const mesh = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'ratings', namespace: 'shop' }, spec: { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }] }] } }
  const withService = convert([mesh, svc('ratings')] as never)
  const route = withService.objects.find((o) => o.kind === 'HTTPRoute') as any
  t.same(route.spec.parentRefs, [{ group: '', kind: 'Service', name: 'ratings' }])
  t.notOk(route.spec.hostnames, 'no hostnames on a GAMMA route')
  t.same(route.spec.rules[0].backendRefs, [{ name: 'ratings', port: 8080 }], 'the port of the single-port Service')
  const { objects, gaps } = convert([mesh] as never)
  t.same(objects.filter((o) => o.kind === 'HTTPRoute'), [], 'without a port the route is not written (the CRD refuses a Service backendRef without one)')
  t.match(gaps, [{ feature: 'destination port', path: 'spec.http[0].route[0]' }, { feature: 'destination port', path: 'spec', detail: /HTTPRoute shop\/ratings not written: rules\[0\]\.backendRefs\[0\] shop\/ratings has no port.*set destination\.port\.number, or include the Service/ }])
})

t.test('routeguard convert --strict exits 1 when anything is dropped; output is YAML', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'in.yaml'), [vs, dr, gw, svc('api'), svc('web')].map((o) => stringify(o)).join('---\n'))
  const r = await runCli(['convert', '--strict', join(dir, 'in.yaml')])
  t.equal(r.code, 1)
  t.match(r.stderr, /^RG0302: VirtualService shop\/web spec\.http\[3\]\.retries: retries: /m)
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS())
  t.same(docs.map((d) => d.kind).sort(), ['Gateway', 'HTTPRoute', 'Service'])
  const lax = await runCli(['convert', join(dir, 'in.yaml')])
  t.equal(lax.code, 0)
})

t.test('a VirtualService that only routes gRPC methods to gRPC ports becomes a GRPCRoute', async (t) => {
  const grpcVs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'greeter', namespace: 'shop' }, spec: { hosts: ['greeter'], http: [{ match: [{ uri: { prefix: '/helloworld.Greeter/' } }], route: [{ destination: { host: 'greeter', subset: 'v2' } }] }, { route: [{ destination: { host: 'greeter' } }] }] } }
  const greeterDr = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'greeter', namespace: 'shop' }, spec: { host: 'greeter', subsets: [{ name: 'v2', labels: { version: 'v2' } }] } }
  const { objects } = convert([grpcVs, greeterDr, svc('greeter', [{ name: 'grpc', port: 50051 }])] as never)
  const route = objects.find((o) => o.kind === 'GRPCRoute') as any
  t.ok(route, 'GRPCRoute emitted')
  t.notOk(objects.some((o) => o.kind === 'HTTPRoute'), 'no HTTPRoute for it')
  t.same(route.spec.rules, [
    { matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter' } }], backendRefs: [{ name: 'greeter-v2', port: 50051 }] },
    { backendRefs: [{ name: 'greeter', port: 50051 }] },
  ])
  const http = convert([{ ...grpcVs, spec: { ...grpcVs.spec, http: [{ route: [{ destination: { host: 'web' } }] }] } }, svc('web')] as never).objects
  t.ok(http.some((o) => o.kind === 'HTTPRoute'), 'plain HTTP Services stay HTTPRoutes')
})

// issue #15: rows of the comparison table, each failing on the main before it
const istioGw = (servers: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' }, spec: { selector: { istio: 'ingressgateway' }, servers } })
const listenersOf = (objs: { kind?: unknown; spec?: any }[]) => objs.find((o) => o.kind === 'Gateway')?.spec.listeners ?? []

t.test('#15 R3: durations become Gateway API durations', async (t) => {
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'shop' }, spec: { hosts: ['api'], http: [{ route: [{ destination: { host: 'api' } }], timeout: '0.5s' }, { route: [{ destination: { host: 'api' } }], timeout: '1m30s' }] } }
  const route = convert([vs, svc('api')] as never).objects.find((o) => o.kind === 'HTTPRoute') as any
  t.same(route.spec.rules.map((r: any) => r.timeouts.request), ['500ms', '90s'])
  t.equal(gatewayDuration('0.0005s').value, '1ms')
  t.match(gatewayDuration('0.0005s').note, /rounded up/)
  t.notOk(gatewayDuration('soon').value)
})

t.test('#15 R6/S3: namespace-scoped server hosts become allowedRoutes, merged per listener', async (t) => {
  const ls = listenersOf(convert([istioGw([{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['./a.example.com', 'shop/b.example.com', 'team/b.example.com', '*/c.example.com', './c.example.com'] }])] as never).objects)
  const by = (h: string) => ls.find((l: any) => l.hostname === h)
  t.same(by('a.example.com').allowedRoutes, { namespaces: { from: 'Same' } }, './h: the Gateway namespace')
  t.same(by('b.example.com').allowedRoutes, { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'team'] }] } } }, 'ns/h: a selector, both namespaces on one listener')
  t.same(by('c.example.com').allowedRoutes, { namespaces: { from: 'All' } }, '*/h and ./h on one server: one listener, All')
  t.equal(ls.length, 3, 'no two listeners with the same port, protocol and hostname')
})

t.test('#15 R8/S1/S2/S4/R9: TLS modes, TCP listeners, certificates, MONGO', async (t) => {
  const { objects, gaps } = convert([istioGw([
    { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { credentialName: 'a-cert' } },
    { port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'PASSTHROUGH' } },
    { port: { number: 9443, name: 'https', protocol: 'HTTPS' }, hosts: ['c.example.com', 'd.example.com'], tls: { mode: 'SIMPLE' } },
    { port: { number: 3306, name: 'tcp', protocol: 'TCP' }, hosts: ['db.example.com'] },
    { port: { number: 27017, name: 'mongo', protocol: 'MONGO' }, hosts: ['*'] },
  ])] as never)
  const ls = listenersOf(objects)
  t.match(ls.find((l: any) => l.port === 443), { protocol: 'TLS', tls: { mode: 'Passthrough' } }, "R8: no mode is Istio's PASSTHROUGH")
  t.match(ls.find((l: any) => l.port === 8443), { protocol: 'TLS', hostname: 'b.example.com', tls: { mode: 'Passthrough' } }, 'S1: HTTPS + PASSTHROUGH is a TLS listener')
  t.notOk(ls.find((l: any) => l.port === 9443), 'S4: a terminating server without a certificate is not written')
  t.equal(gaps.filter((g) => g.path === 'spec.servers[2].tls').length, 1, 'S4: said once, not once per host')
  t.match(gaps.find((g) => g.path === 'spec.servers[2].tls')?.detail, /needs certificateRefs .* has no certificate/)
  t.notOk(gaps.some((g) => /inline certificate files/.test(g.detail)), 'no note about files there were none of')
  const tcp = ls.find((l: any) => l.port === 3306)
  t.equal(tcp.protocol, 'TCP')
  t.notOk('hostname' in tcp, 'S2: TCP listeners carry no hostname')
  t.match(ls.find((l: any) => l.port === 27017), { protocol: 'TCP' }, 'R9: MONGO is carried as TCP')
})

t.test('#15 S7: TCPRoute/TLSRoute at the versions the target serves', async (t) => {
  const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'db', namespace: 'shop' }, spec: { hosts: ['db.example.com'], gateways: ['infra/gw'], tcp: [{ route: [{ destination: { host: 'db', port: { number: 3306 } } }] }], tls: [{ match: [{ sniHosts: ['db.example.com'] }], route: [{ destination: { host: 'db', port: { number: 3306 } } }] }] } }
  const kinds = (objs: any[]) => objs.filter((o) => o.kind === 'TCPRoute' || o.kind === 'TLSRoute').map((o) => `${o.kind} ${o.apiVersion}`)
  t.same(kinds(convert([vs, svc('db', [{ name: 'tcp', port: 3306 }])] as never).objects), ['TCPRoute gateway.networking.k8s.io/v1', 'TLSRoute gateway.networking.k8s.io/v1'], 'default: the newest release (v1.6.1 serves v1)')
  t.same(kinds(convert([vs, svc('db', [{ name: 'tcp', port: 3306 }])] as never, { routeVersions: GATEWAY_API_RELEASES['v1.4.1']! }).objects), ['TCPRoute gateway.networking.k8s.io/v1alpha2', 'TLSRoute gateway.networking.k8s.io/v1alpha2'])
  const crd = (kind: string, versions: [string, boolean][]) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${kind.toLowerCase()}s.gateway.networking.k8s.io` }, spec: { group: 'gateway.networking.k8s.io', names: { kind }, versions: versions.map(([name, served]) => ({ name, served })) } })
  const versions = routeVersionsFromCrds([crd('TLSRoute', [['v1', true], ['v1alpha2', false]])] as never)
  t.same(versions, { TCPRoute: null, TLSRoute: 'v1' })
  const r = convert([vs, svc('db', [{ name: 'tcp', port: 3306 }])] as never, { routeVersions: versions })
  t.same(kinds(r.objects), ['TLSRoute gateway.networking.k8s.io/v1'])
  t.match(r.gaps.find((g) => g.feature === 'TCPRoute')?.detail, /does not serve TCPRoute/, 'a kind the CRDs do not serve is reported, not written')
})

t.test('#15 R1/R2: rewrite.uri is a prefix rewrite (Envoy prefix_rewrite), split per match', async (t) => {
  const vs = (http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'shop' }, spec: { hosts: ['api'], http } })
  const rulesOf = (http: unknown[]) => (convert([vs(http), svc('api')] as never).objects.find((o) => o.kind === 'HTTPRoute') as any).spec.rules
  const mixed = rulesOf([{ match: [{ uri: { prefix: '/v1' } }, { uri: { exact: '/old' } }], rewrite: { uri: '/v2' }, route: [{ destination: { host: 'api' } }] }])
  t.same(mixed.map((r: any) => [r.matches[0].path, r.filters[0].urlRewrite.path]), [
    [{ type: 'PathPrefix', value: '/v1' }, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' }],
    [{ type: 'Exact', value: '/old' }, { type: 'ReplaceFullPath', replaceFullPath: '/v2' }],
  ], 'R1: prefix → ReplacePrefixMatch, exact → ReplaceFullPath, one rule each')
  const none = rulesOf([{ rewrite: { uri: '/v2/' }, route: [{ destination: { host: 'api' } }] }])
  t.same([none[0].matches, none[0].filters[0].urlRewrite.path], [[{ path: { type: 'PathPrefix', value: '/' } }], { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2/' }], 'R2: no match → a prefix rewrite of /')
  const headersOnly = rulesOf([{ match: [{ headers: { 'x-v': { exact: '2' } } }], rewrite: { uri: '/v2/' }, route: [{ destination: { host: 'api' } }] }])
  t.same(headersOnly[0].matches, [{ headers: [{ name: 'x-v', type: 'Exact', value: '2' }], path: { type: 'PathPrefix', value: '/' } }], 'R2: a headers-only match gets PathPrefix /')
})

t.test('#15: exportTo ["*"] is no gap; an empty redirect is invalid Istio input', async (t) => {
  const base = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'shop' } }
  const pub = convert([{ ...base, spec: { hosts: ['api'], exportTo: ['*'], http: [{ route: [{ destination: { host: 'api' } }] }] } }, svc('api')] as never)
  t.notOk(pub.gaps.some((g) => g.feature === 'exportTo'), 'the default exportTo loses nothing')
  const dot = convert([{ ...base, spec: { hosts: ['api'], exportTo: ['.'], http: [{ route: [{ destination: { host: 'api' } }] }] } }, svc('api')] as never)
  t.ok(dot.gaps.some((g) => g.feature === 'exportTo'), 'a restricting exportTo is still reported')
  const empty = convert([{ ...base, spec: { hosts: ['api'], http: [{ match: [{ uri: { prefix: '/x' } }], redirect: {} }, { route: [{ destination: { host: 'api' } }] }] } }, svc('api')] as never)
  t.match(empty.gaps.find((g) => g.path === 'spec.http[0].redirect')?.detail, /invalid Istio input/)
  const rules = (empty.objects.find((o) => o.kind === 'HTTPRoute') as any).spec.rules
  t.equal(rules.length, 1, 'the invalid rule is not written as a rule without filter or backend')
})

t.test('#15 R4/R5/R7/S5: hostnames the schema refuses, exportTo and gateways, dropped match fields, ReferenceGrants', async (t) => {
  const base = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'shop' } }
  const r4 = convert([{ ...base, spec: { hosts: ['API.Example.com', '*-api.example.com', 'example*.com', '::ffff:192.0.2.1', 'reviews', '*.ok.example.com'], gateways: ['infra/gw'], http: [{ route: [{ destination: { host: 'api' } }] }] } }, svc('api')] as never)
  t.same((r4.objects.find((o) => o.kind === 'HTTPRoute') as any).spec.hostnames, ['api.example.com', '*.ok.example.com'], 'R4: folded and dropped')
  t.equal(r4.gaps.filter((g) => g.feature === 'hosts').length, 5, 'R4: each change reported')
  const r5 = convert([{ ...base, spec: { hosts: ['api.example.com'], gateways: ['infra/gw', 'shop/local'], exportTo: ['.'], http: [{ route: [{ destination: { host: 'api' } }] }] } }, svc('api')] as never)
  t.same((r5.objects.find((o) => o.kind === 'HTTPRoute') as any).spec.parentRefs, [{ name: 'local' }], 'R5: no parentRef to a Gateway it is not exported to')
  t.match(r5.gaps.find((g) => g.path === 'spec.gateways[0]')?.detail, /never binds it to infra\/gw/)
  const r7 = convert([{ ...base, spec: { hosts: ['api.example.com'], gateways: ['infra/gw'], http: [{ match: [{ port: 8080, uri: { prefix: '/a' } }], route: [{ destination: { host: 'api' } }] }], tcp: [{ match: [{ port: 3306 }], route: [{ destination: { host: 'api', port: { number: 3306 } } }] }], tls: [{ match: [{ sniHosts: ['api.example.com'], port: 443, sourceLabels: { app: 'x' }, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'api', port: { number: 443 } } }] }] } }, svc('api')] as never)
  for (const p of ['spec.http[0].match[0].port', 'spec.tls[0].match[0].port', 'spec.tls[0].match[0].sourceLabels', 'spec.tls[0].match[0].destinationSubnets']) t.ok(r7.gaps.some((g) => g.path === p), `R7: ${p} reported`)
  // #26 B10: a tcp match port is kept as parentRef.port, not lost
  t.same((r7.objects.find((o) => o.kind === 'TCPRoute') as any).spec.parentRefs, [{ name: 'gw', namespace: 'infra', port: 3306 }])
  const s5 = convert([{ ...base, spec: { hosts: ['api.example.com'], gateways: ['infra/gw'], http: [{ route: [{ destination: { host: 'api.backend.svc.cluster.local', port: { number: 80 } }, weight: 50 }, { destination: { host: 'web.backend.svc.cluster.local', port: { number: 80 } }, weight: 50 }] }] } }] as never)
  const grant = s5.objects.find((o) => o.kind === 'ReferenceGrant') as any
  t.same(grant, { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'shop-httproutes', namespace: 'backend' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }], to: [{ group: '', kind: 'Service', name: 'api' }, { group: '', kind: 'Service', name: 'web' }] } }, 'S5: a ReferenceGrant in the backend namespace')
})

t.test('#15 S6: the same routing before and after, or each request that changes destination', async (t) => {
  const gwIstio = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'shop' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }] } }
  const vs = (http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'shop', namespace: 'shop' }, spec: { hosts: ['shop.example.com'], gateways: ['public'], http } })
  const routing = (http: unknown[]) => convert([gwIstio, vs(http), svc('api'), svc('canary'), svc('web')] as never).gaps.filter((g) => g.feature === 'routing').map((g) => g.detail)
  const canaryFirst = routing([
    { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host: 'canary' } }] },
    { match: [{ uri: { prefix: '/api/' } }], route: [{ destination: { host: 'api' } }] },
    { route: [{ destination: { host: 'web' } }] },
  ])
  t.ok(canaryFirst.some((d) => /GET http:\/\/shop\.example\.com\/api\/x? with x-canary: true through shop\/public: Istio sends it to shop\/canary=100%.*; the converted routes send it to shop\/api=100%/.test(d)), "Istio's first match (the canary rule) against Gateway API precedence (the longer prefix)")
  const same = routing([
    { match: [{ uri: { exact: '/login' } }], route: [{ destination: { host: 'web' } }] },
    { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host: 'canary' } }] },
    { route: [{ destination: { host: 'web' } }, ], timeout: '5s' },
  ])
  t.same(same, [], 'routes that keep their order say nothing')
  t.ok(routing([{ match: [{ uri: { prefix: '/static' } }], route: [{ destination: { host: 'web' } }] }]).some((d) => /\/staticx .*Istio sends it to shop\/web=100%.*converted routes send it to status 404/.test(d)), 'string prefix against path-element prefix')
})

/** One gateway VirtualService with the given http rules, converted with the Services of shop. */
function convertHttp(http: unknown[], opts: Parameters<typeof convert>[1] = {}) {
  const one = { ...vs, spec: { ...vs.spec, http } }
  const { objects, gaps } = convert([one, gw, svc('api'), svc('web')] as never, { checkRouting: false, ...opts })
  return { rules: (objects.find((o) => o.kind === 'HTTPRoute') as any)?.spec.rules as any[], gaps: gaps.map((g) => `${g.feature} ${g.path}: ${g.detail}`) }
}

t.test('#26 B1: a header or query StringMatch without a type (or regex "*") is presence, never a catch-all', async (t) => {
  const { rules } = convertHttp([
    { match: [{ headers: { 'x-debug': {} } }], route: [{ destination: { host: 'api' } }] },
    { match: [{ queryParams: { q: {} } }], route: [{ destination: { host: 'api' } }] },
    { match: [{ headers: { 'x-trace': { regex: '*' } } }], route: [{ destination: { host: 'api' } }] },
    { route: [{ destination: { host: 'web' } }] },
  ])
  t.same(rules[0].matches, [{ headers: [{ name: 'x-debug', type: 'RegularExpression', value: '.*' }] }], 'header present, any value')
  t.same(rules[1].matches, [{ queryParams: [{ name: 'q', type: 'RegularExpression', value: '.*' }] }], 'query parameter present, any value')
  t.same(rules[2].matches, [{ headers: [{ name: 'x-trace', type: 'RegularExpression', value: '.*' }] }], 'regex "*" (invalid RE2) read as Istio does: presence')
  t.notOk(rules.slice(0, 3).some((r) => r.matches.some((m: object) => Object.keys(m).length === 0)), 'no rule became a catch-all')
})

t.test('#26 B4: redirect.prefixRewrite becomes ReplacePrefixMatch (one PathPrefix match per rule)', async (t) => {
  const { rules, gaps } = convertHttp([
    { match: [{ uri: { prefix: '/old' } }, { uri: { prefix: '/legacy' } }], redirect: { prefixRewrite: '/new' } },
    { match: [{ uri: { exact: '/docs' } }], redirect: { prefixRewrite: '/manual', authority: 'docs.example.com' } },
    { match: [{ uri: { regex: '/v[0-9]+/.*' } }], redirect: { prefixRewrite: '/v9/' } },
    { redirect: { prefixRewrite: '/all' } },
  ])
  const redirectOf = (r: any) => r.filters.find((f: any) => f.type === 'RequestRedirect').requestRedirect
  t.same(rules[0].matches, [{ path: { type: 'PathPrefix', value: '/old' } }])
  t.same(rules[1].matches, [{ path: { type: 'PathPrefix', value: '/legacy' } }], 'one rule per prefix match')
  t.same(redirectOf(rules[0]).path, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' })
  t.same(redirectOf(rules[1]).path, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' })
  t.same(redirectOf(rules[2]), { path: { type: 'ReplaceFullPath', replaceFullPath: '/manual' }, hostname: 'docs.example.com', statusCode: 301 }, 'after an exact match the prefix is the whole path; the other fields kept')
  t.notOk(redirectOf(rules[3]).path, 'after a regex match the path is kept')
  t.ok(gaps.some((g) => g.startsWith('redirect.prefixRewrite spec.http[2].redirect.prefixRewrite: after a regex match')), 'and that is reported')
  t.same(rules[4].matches, [{ path: { type: 'PathPrefix', value: '/' } }], 'no uri match: the prefix is /, written explicitly')
  t.same(redirectOf(rules[4]).path, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/all' })
  t.notOk(gaps.some((g) => /invalid Istio input/.test(g)), 'prefixRewrite alone is valid Istio')
})

t.test('#26 B5: a redirect code the target does not allow becomes the nearest it does, reported; the route is kept', async (t) => {
  const http = [
    { match: [{ uri: { prefix: '/a' } }], redirect: { uri: '/docs', redirectCode: 308 } },
    { match: [{ uri: { prefix: '/b' } }], redirect: { uri: '/docs', redirectCode: 307 } },
    { match: [{ uri: { prefix: '/c' } }], redirect: { uri: '/docs', redirectCode: 303 } },
  ]
  const old = convertHttp(http, { routeVersions: GATEWAY_API_RELEASES['v1.4.1'], redirectCodes: GATEWAY_API_REDIRECT_CODES['v1.4.1'] })
  t.same(old.rules.map((r) => r.filters[0].requestRedirect.statusCode), [301, 302, 302], 'permanent → 301, temporary → 302 on v1.4.1')
  t.match(old.gaps.filter((g) => g.startsWith('redirect.redirectCode')), [/status 308 is not one the target allows \(301\/302\); 301 used/, /status 307 .*302 used/, /status 303 .*302 used/])
  const current = convertHttp(http)
  t.same(current.rules.map((r) => r.filters[0].requestRedirect.statusCode), [308, 307, 303], 'v1.6.1 allows them all')
  t.notOk(current.gaps.some((g) => g.startsWith('redirect.redirectCode')))
  // the codes come from the target's CRDs when given
  const crd = (codes: number[]) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'httproutes.gateway.networking.k8s.io' }, spec: { group: 'gateway.networking.k8s.io', names: { kind: 'HTTPRoute' }, versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: { properties: { spec: { properties: { rules: { items: { properties: { filters: { items: { properties: { requestRedirect: { properties: { statusCode: { enum: codes } } } } } } } } } } } } } } }] } })
  t.same(redirectCodesFromCrds([crd([301, 302]) as never]), [301, 302])
  t.same(redirectCodesFromCrds([]), undefined, 'no HTTPRoute CRD: unknown')
  t.equal(nearestRedirectCode(308, [301, 302, 303, 307, 308]), 308)
  t.equal(nearestRedirectCode(399, [301, 302]), undefined, 'not a redirect code at all')
})

t.test('#26 B11: the deprecated mirrorPercent keeps its percentage; mirrorPercentage wins when both are set', async (t) => {
  const mirror = { host: 'web', port: { number: 8080 } }
  const { rules } = convertHttp([
    { match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: 'api' } }], mirror, mirrorPercent: 25 },
    { match: [{ uri: { prefix: '/b' } }], route: [{ destination: { host: 'api' } }], mirror, mirrorPercent: 25, mirrorPercentage: { value: 7.5 } },
    { match: [{ uri: { prefix: '/c' } }], route: [{ destination: { host: 'api' } }], mirror },
  ])
  const mirrorOf = (r: any) => r.filters.find((f: any) => f.type === 'RequestMirror').requestMirror
  t.same(mirrorOf(rules[0]), { backendRef: { name: 'web', port: 8080 }, percent: 25 })
  t.same(mirrorOf(rules[1]), { backendRef: { name: 'web', port: 8080 }, fraction: { numerator: 7500, denominator: 100000 } })
  t.same(mirrorOf(rules[2]), { backendRef: { name: 'web', port: 8080 } }, 'neither: every request is mirrored')
})

t.test('#26 C8: a route name the input already uses is not overwritten: a free name, reported', async (t) => {
  const existing = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { hostnames: ['old.example.com'], rules: [] } }
  const taken2 = { ...existing, metadata: { name: 'web-converted', namespace: 'shop' } }
  const { objects, gaps } = convert([vs, gw, svc('api'), svc('web'), existing, taken2] as never, { checkRouting: false })
  const routes = objects.filter((o) => o.kind === 'HTTPRoute').map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
  t.same(routes, ['shop/web-converted-2'], 'the first free name')
  t.match(gaps.filter((g) => g.feature === 'name'), [{ resource: 'VirtualService shop/web', detail: /HTTPRoute shop\/web exists in the input; written as shop\/web-converted-2/ }])
  const alone = convert([vs, gw, svc('api'), svc('web')] as never, { checkRouting: false })
  t.same(alone.objects.filter((o) => o.kind === 'HTTPRoute').map((o) => o.metadata?.name), ['web'], 'without a clash the name is kept')
  t.notOk(alone.gaps.some((g) => g.feature === 'name'))
})

t.test('#26 B6: SNI hosts are folded and checked like HTTP hosts; "*" is any SNI', async (t) => {
  const tlsVs = (sniHosts: string[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'db', namespace: 'shop' }, spec: { hosts: ['*'], gateways: ['infra/gw'], tls: [{ match: [{ sniHosts }], route: [{ destination: { host: 'db', port: { number: 3306 } } }] }] } })
  const run = (sniHosts: string[], release: 'v1.4.1' | 'v1.6.1') => {
    const { objects, gaps } = convert([tlsVs(sniHosts)] as never, { checkRouting: false, routeVersions: GATEWAY_API_RELEASES[release] })
    return { route: objects.find((o) => o.kind === 'TLSRoute') as any, gaps: gaps.map((g) => `${g.path}: ${g.detail}`) }
  }
  const folded = run(['DB.Internal.Example.org', 'db.internal.example.org', 'db'], 'v1.6.1')
  t.same(folded.route.spec.hostnames, ['db.internal.example.org'], 'folded to lower case, once; the short name dropped')
  t.match(folded.gaps, [/spec\.tls\[0\]\.match\[0\]\.sniHosts\[0\]: DB\.Internal\.Example\.org folded to db\.internal\.example\.org/, /sniHosts\[2\]: db is a short name/])
  const anyV1 = run(['*'], 'v1.6.1')
  t.notOk(anyV1.route, 'v1 TLSRoutes need a hostname: any SNI cannot be written')
  t.match(anyV1.gaps, [/spec\.tls\[0\]\.match: any SNI \(\*\): a v1 TLSRoute needs at least one hostname; TLSRoute not written/])
  const anyAlpha = run(['*'], 'v1.4.1')
  t.notOk(anyAlpha.route.spec.hostnames, 'v1alpha2: no hostnames, every SNI of the listener, as Istio\'s *')
})

t.test('#26 B12: corsPolicy becomes the CORS filter where the target serves it (v1.5+); reported on v1.4.1', async (t) => {
  const corsPolicy = {
    allowOrigins: [{ exact: 'https://shop.example.com' }, { exact: 'https://*.example.org' }, { prefix: 'https://dev' }, { exact: 'not an origin' }],
    allowOrigin: ['http://legacy.example.com'],
    allowMethods: ['GET', 'post', 'PURGE'],
    allowHeaders: ['x-token', 'x-token'],
    exposeHeaders: ['x-trace'],
    maxAge: '24h',
    allowCredentials: true,
    unmatchedPreflights: 'IGNORE',
  }
  const http = [{ match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'api' } }], corsPolicy }]
  const current = convertHttp(http)
  t.same(current.rules[0].filters, [
    { type: 'CORS', cors: { allowOrigins: ['http://legacy.example.com', 'https://shop.example.com', 'https://*.example.org'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-token'], exposeHeaders: ['x-trace'], allowCredentials: true, maxAge: 86400 } },
  ])
  for (const g of [/allowOrigins\[2\]: a prefix or regex origin has no Gateway API form/, /allowOrigins\[3\]\.exact: not an origin is not an origin the Gateway API CORS filter accepts/, /allowMethods: PURGE: not a method/, /unmatchedPreflights: the CORS filter has no setting/]) t.ok(current.gaps.some((x) => g.test(x)), `reported: ${g.source}`)
  t.same(convertHttp([{ ...http[0], corsPolicy: { maxAge: '1500ms' } }]).rules[0].filters, [{ type: 'CORS', cors: { maxAge: 2 } }], 'maxAge in whole seconds')
  const old = convertHttp(http, { routeVersions: GATEWAY_API_RELEASES['v1.4.1'], redirectCodes: GATEWAY_API_REDIRECT_CODES['v1.4.1'], cors: false })
  t.notOk(old.rules[0].filters, 'no CORS filter on v1.4.1')
  t.ok(old.gaps.some((g) => /^corsPolicy spec\.http\[0\]\.corsPolicy: the target has no CORS filter/.test(g)), 'reported')
  const crd = (filterProps: Record<string, unknown>) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'httproutes.gateway.networking.k8s.io' }, spec: { group: 'gateway.networking.k8s.io', names: { kind: 'HTTPRoute' }, versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: { properties: { spec: { properties: { rules: { items: { properties: { filters: { items: { properties: filterProps } } } } } } } } } } }] } })
  t.equal(corsFromCrds([crd({ cors: {}, requestRedirect: {} }) as never]), true, 'a CRD with the cors filter')
  t.equal(corsFromCrds([crd({ requestRedirect: {} }) as never]), false, 'a CRD without it')
  t.equal(corsFromCrds([]), undefined, 'no HTTPRoute CRD')
})

t.test('#26 B7: a uri without a leading / matches nothing and is left out; a header name the Gateway API refuses is dropped, said; the rest of the route kept', async (t) => {
  const { rules, gaps } = convertHttp([
    { match: [{ uri: { prefix: 'api' } }, { uri: { prefix: '/api' } }], route: [{ destination: { host: 'api' } }] },
    { match: [{ uri: { exact: 'docs' } }], route: [{ destination: { host: 'web' } }] },
    { match: [{ uri: { prefix: '/a' }, headers: { ':authority': { exact: 'shop.example.com' }, 'x-env': { exact: 'prod' } } }], route: [{ destination: { host: 'web' } }] },
    { route: [{ destination: { host: 'web' } }] },
  ])
  t.equal(rules.length, 3, 'the rule whose only match selects nothing is gone; the others stay')
  t.same(rules[0].matches, [{ path: { type: 'PathPrefix', value: '/api' } }], 'the match without / left out, its sibling kept')
  t.same(rules[1].matches, [{ path: { type: 'PathPrefix', value: '/a' }, headers: [{ name: 'x-env', type: 'Exact', value: 'prod' }] }], ':authority dropped, x-env kept')
  t.same(rules[2].backendRefs, [{ name: 'web', port: 8080 }])
  t.ok(gaps.some((g) => /^match\.uri spec\.http\[0\]\.match\[0\]\.uri: api does not start with \/, so no request path matches it/.test(g)))
  t.ok(gaps.some((g) => /^match\.uri spec\.http\[1\]\.match\[0\]\.uri: docs .*this match is left out, and with it the rule/.test(g)))
  t.ok(gaps.some((g) => /^match\.headers spec\.http\[2\]\.match\[0\]\.headers\.:authority: :authority is not a header name the Gateway API accepts \(a pseudo-header; hostnames select the authority\)/.test(g)))
})

t.test('#26 B15: a Gateway with no servers is said; no ReferenceGrant is left for a route that is not written', async (t) => {
  const empty = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'empty', namespace: 'infra' }, spec: { selector: { istio: 'ingressgateway' }, servers: [] } }
  const r = convert([empty] as never)
  t.same(r.objects.filter((o) => o.kind === 'Gateway'), [])
  t.match(r.gaps, [{ resource: 'Gateway infra/empty', feature: 'servers', detail: /the Gateway has no servers; no Gateway API Gateway written/ }])
  // a route in shop to a Service in data needs a grant; held back, its grant goes with it
  const cross = { ...vs, spec: { ...vs.spec, http: [{ route: [{ destination: { host: 'db.data.svc.cluster.local', port: { number: 5432 } } }] }] } }
  const { objects } = convert([cross, gw] as never, { checkRouting: false })
  const grant = objects.find((o) => o.kind === 'ReferenceGrant') as any
  t.match(grant, { metadata: { namespace: 'data' }, spec: { from: [{ kind: 'HTTPRoute', namespace: 'shop' }], to: [{ kind: 'Service', name: 'db' }] } }, 'the grant the route needs')
  t.same(regrant(objects).filter((o) => o.kind === 'ReferenceGrant'), [grant], 'made anew from the same routes: the same grant')
  t.same(regrant(objects.filter((o) => o.kind !== 'HTTPRoute')).filter((o) => o.kind === 'ReferenceGrant'), [], 'the route held back: no grant')
})

t.test('#26 B3: credentialName is read where the gateway workload runs: certificateRef and a ReferenceGrant there', async (t) => {
  const bookinfoGw = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'bookinfo-gateway', namespace: 'bookinfo' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['bookinfo.example.com'], tls: { mode: 'SIMPLE', credentialName: 'bookinfo-cert' } }] } }
  const deployment = (ns: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istio-ingressgateway', namespace: ns }, spec: { selector: { matchLabels: { istio: 'ingressgateway' } }, template: { metadata: { labels: { istio: 'ingressgateway' } } } } })
  const withWorkload = convert([bookinfoGw, deployment('istio-system')] as never)
  const gateway = withWorkload.objects.find((o) => o.kind === 'Gateway') as any
  t.same(gateway.spec.listeners[0].tls.certificateRefs, [{ kind: 'Secret', name: 'bookinfo-cert', namespace: 'istio-system' }])
  const grant = withWorkload.objects.find((o) => o.kind === 'ReferenceGrant') as any
  t.same(grant, { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'bookinfo-gateway-bookinfo-gateway-secrets', namespace: 'istio-system' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'bookinfo' }], to: [{ group: '', kind: 'Secret', name: 'bookinfo-cert' }] } })
  t.notOk(withWorkload.gaps.some((g) => g.feature === 'tls.credentialName'), 'exact: nothing to report')
  t.same(regrant(withWorkload.objects).filter((o) => o.kind === 'ReferenceGrant'), [grant], 'the Secret grant survives the route grants being made anew')
  const unknown = convert([bookinfoGw] as never)
  t.same((unknown.objects.find((o) => o.kind === 'Gateway') as any).spec.listeners[0].tls.certificateRefs, [{ kind: 'Secret', name: 'bookinfo-cert' }])
  t.match(unknown.gaps, [{ feature: 'tls.credentialName', path: 'spec.servers[0].tls.credentialName', detail: /gateway workload .* is not in the input; certificateRefs written for bookinfo/ }])
  const two = convert([bookinfoGw, deployment('istio-system'), deployment('gateways')] as never)
  t.match(two.gaps.filter((g) => g.feature === 'tls.credentialName'), [{ detail: /gateway workloads in gateways, istio-system.*written for gateways only/ }])
})

t.test('#26 B9/B10: tcp routes bind to TCP servers with a matching host only; match.port becomes parentRef.port', async (t) => {
  const tcpGw = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 3306, name: 'mysql', protocol: 'TCP' }, hosts: ['db.example.com'] }, { port: { number: 5432, name: 'pg', protocol: 'TCP' }, hosts: ['db.example.com'] }] } }
  const db = (hosts: string[], tcp: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'db', namespace: 'shop' }, spec: { hosts, gateways: ['infra/gw'], tcp } })
  const route = (port: number) => ({ route: [{ destination: { host: 'db', port: { number: port } } }] })
  const split = convert([tcpGw, db(['db.example.com'], [{ match: [{ port: 3306 }], ...route(3306) }, { match: [{ port: 5432 }], ...route(5432) }])] as never, { checkRouting: false })
  const tcp = split.objects.filter((o) => o.kind === 'TCPRoute') as any[]
  t.same(tcp.map((r) => r.spec.parentRefs), [[{ name: 'gw', namespace: 'infra', port: 3306 }], [{ name: 'gw', namespace: 'infra', port: 5432 }]], 'one TCPRoute per port, each on its port')
  t.notOk(split.gaps.some((g) => g.feature === 'tcp.match.port'), 'nothing lost')
  const mixed = convert([tcpGw, db(['db.example.com'], [{ match: [{ port: 3306 }, { sourceNamespace: 'x' }], ...route(3306) }])] as never, { checkRouting: false })
  t.same((mixed.objects.find((o) => o.kind === 'TCPRoute') as any).spec.parentRefs, [{ name: 'gw', namespace: 'infra' }], 'a match without a port takes every port')
  t.ok(mixed.gaps.some((g) => g.feature === 'tcp.match.port'), 'and the port is reported')
  const other = convert([tcpGw, db(['other.example.com'], [route(3306)])] as never, { checkRouting: false })
  t.same(other.objects.filter((o) => o.kind === 'TCPRoute'), [], 'no TCP server has the host: no TCPRoute attaches there')
  t.match(other.gaps.filter((g) => g.feature === 'tcp'), [{ detail: /no TCP server of Gateway infra\/gw has a host of this VirtualService \(other\.example\.com\)/ }])
})

t.test('#26 B14: no false loss lines: regex + rewrite is exact, 503 vs 500 is the same failure, tls-only is not traced as HTTP, each line once', async (t) => {
  const regexRewrite = convert([{ ...vs, spec: { ...vs.spec, http: [{ match: [{ uri: { regex: '/v[0-9]+/.*' } }], rewrite: { uri: '/api' }, route: [{ destination: { host: 'api' } }] }] } }, gw, svc('api'), svc('web')] as never)
  const rule = (regexRewrite.objects.find((o) => o.kind === 'HTTPRoute') as any).spec.rules[0]
  t.same(rule.filters, [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/api' } } }], "Envoy's prefix_rewrite swaps the whole path after a regex match")
  t.same(regexRewrite.gaps.filter((g) => g.resource === 'VirtualService shop/web' && ['rewrite.uri', 'routing'].includes(g.feature)), [], 'and nothing is reported for it')
  // destinations not in the input: Istio 503, Gateway API 500; not a difference
  const missing = convert([{ ...vs, spec: { ...vs.spec, hosts: ['a.example.com', 'b.example.com'], http: [{ route: [{ destination: { host: 'nowhere', port: { number: 80 } } }] }] } }, gw] as never)
  t.same(missing.gaps.filter((g) => g.feature === 'routing'), [], 'no routing line for a Service the input does not hold')
  const tlsOnly = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'db', namespace: 'shop' }, spec: { hosts: ['db.example.com'], gateways: ['istio-system/public'], tls: [{ match: [{ sniHosts: ['db.example.com'] }], route: [{ destination: { host: 'db', port: { number: 5432 } } }] }] } }
  t.same(convert([tlsOnly, gw] as never).gaps.filter((g) => g.feature === 'routing'), [], 'a tls-only VirtualService is not traced as HTTP')
  // one line per difference: two hosts of one VirtualService leading to the same change give one line
  const twice = convert([{ ...vs, spec: { ...vs.spec, hosts: ['a.example.com', 'b.example.com'], http: [{ match: [{ uri: { prefix: '/shop' } }], route: [{ destination: { host: 'api' } }] }, { route: [{ destination: { host: 'web' } }] }] } }, gw, svc('api'), svc('web')] as never)
  const lines = twice.gaps.filter((g) => g.feature === 'routing').map((g) => g.detail)
  t.same(lines, ['GET https://a.example.com/shopx through istio-system/public: Istio sends it to shop/api=100% (path /shopx); the converted routes send it to shop/web=100% (path /shopx) (also on b.example.com)'], 'the same change on two hosts: one line naming both')
})

t.test('#26 B13: a delegate VirtualService\'s rules are written under its root\'s parents, in the root rule\'s place', async (t) => {
  const root = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'root', namespace: 'shop' }, spec: { hosts: ['shop.example.com'], gateways: ['istio-system/public'], http: [
    { match: [{ uri: { prefix: '/api' } }], delegate: { name: 'api-team', namespace: 'shop' } },
    { route: [{ destination: { host: 'web' } }] },
  ] } }
  const delegate = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api-team', namespace: 'shop' }, spec: { http: [
    { match: [{ uri: { prefix: '/api/v2' }, headers: { 'x-beta': { exact: '1' } } }], route: [{ destination: { host: 'api', subset: 'v2' } }] },
    { route: [{ destination: { host: 'api' } }] },
  ] } }
  const dr = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'api', namespace: 'shop' }, spec: { host: 'api', subsets: [{ name: 'v2', labels: { version: 'v2' } }] } }
  const { objects, gaps } = convert([root, delegate, dr, gw, svc('api'), svc('web')] as never)
  const routes = objects.filter((o) => o.kind === 'HTTPRoute') as any[]
  t.same(routes.map((r) => r.metadata.name), ['root'], 'no route of the delegate\'s own (it had no parents)')
  t.same(routes[0].spec.parentRefs, [{ name: 'public', namespace: 'istio-system' }])
  t.same(routes[0].spec.rules.map((r: any) => [r.matches, r.backendRefs]), [
    [[{ path: { type: 'PathPrefix', value: '/api/v2' }, headers: [{ name: 'x-beta', type: 'Exact', value: '1' }] }], [{ name: 'api-v2', port: 8080 }]],
    [[{ path: { type: 'PathPrefix', value: '/api' } }], [{ name: 'api', port: 8080 }]],
    [undefined, [{ name: 'web', port: 8080 }]],
  ], 'the delegate rules in order, under the root match, then the root\'s next rule')
  t.notOk(gaps.some((g) => g.feature === 'delegate'), 'nothing lost')
  const routing = gaps.filter((g) => g.feature === 'routing').map((g) => g.detail)
  t.ok(routing.every((d) => /\/apix /.test(d)), `the traces agree but for the string-prefix neighbour /apix (PathPrefix matches segments): ${routing.join(' | ')}`)
  const alone = convert([root, gw, svc('web')] as never, { checkRouting: false })
  t.match(alone.gaps, [{ feature: 'delegate', path: 'spec.http[0].delegate', detail: /delegate VirtualService shop\/api-team is not in the input/ }])
})

t.test('#26 S6: Istio\'s first-match order against Gateway API precedence: a regex header rule before a longer prefix is checked, with or without the Gateway in the input', async (t) => {
  const http = [
    { match: [{ headers: { 'x-env': { regex: 'prod|stage' } } }], route: [{ destination: { host: 'web', subset: 'canary' } }] },
    { match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'api' } }] },
    { route: [{ destination: { host: 'web' } }] },
  ]
  const canary = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'canary', labels: { track: 'canary' } }] } }
  const moved = (withGateway: boolean, queryToo = false) => {
    const rules = queryToo ? [{ match: [{ queryParams: { env: { regex: 'prod|stage' } } }], route: [{ destination: { host: 'web', subset: 'canary' } }] }, ...http.slice(1)] : http
    const inputs = [{ ...vs, spec: { ...vs.spec, http: rules } }, canary, svc('api'), svc('web'), ...(withGateway ? [gw] : [])]
    return convert(inputs as never).gaps.filter((g) => g.feature === 'routing').map((g) => g.detail)
  }
  for (const withGateway of [true, false]) {
    const lines = moved(withGateway)
    t.ok(lines.some((l) => /\/api\/x with x-env: prod.*Istio sends it to shop\/web-canary=100%.*the converted routes send it to shop\/api=100%/.test(l)), `${withGateway ? 'with' : 'without'} the Gateway: /api/x with x-env: prod moved from web-canary to api is reported`)
  }
  t.ok(moved(false, true).some((l) => /\/api\/x\?env=prod.*Istio sends it to shop\/web-canary=100%.*shop\/api=100%/.test(l)), 'a regex query match too')
  t.equal(regexExample('prod|stage'), 'prod')
  t.equal(regexExample('^v[0-9]+$'), undefined, 'no simple example')
  t.equal(regexExample('api\\.example\\.com'), 'api.example.com')
})

t.test('the README convert example: exact but for one request it names (examples/convert/shop.yaml)', async (t) => {
  const { loadObjects } = await import('../src/analyze/load.js')
  const { objects, gaps } = convert(loadObjects(['examples/convert/shop.yaml'], 'default').objects.map((o) => o.object))
  t.same(objects.map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`), ['Gateway shop/public', 'ReferenceGrant istio-system/shop-gateway-public-secrets', 'HTTPRoute shop/web', 'Service shop/web-canary'])
  t.same(gaps.filter((g) => g.feature === 'routing').map((g) => g.detail), ['GET https://shop.example.com/oldx through shop/public: Istio sends it to redirect 301 https://shop.example.com/newx; the converted routes send it to shop/web=100% (path /oldx)'])
  t.same(gaps.map((g) => g.feature).sort(), ['routing', 'selector.*', 'servers[].port.name', 'subset', 'uri.prefix'], 'and the lines the README names')
})
