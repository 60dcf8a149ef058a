/**
 * `routeguard trace` (issue #16) on the fixtures in test/fixtures/trace alone: JSON fields,
 * exit codes (0 routed, 1 not, 2 usage), the winner with file:line, losing candidates with why,
 * both Gateway kinds, the mesh, and the same answer against a cluster (the loopback API server).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { loadObjects } from '../src/analyze/load.js'
import { KIND } from '../src/model/object.js'
import { formatTrace, parseRequest, resolveGateway, trace, TraceUsageError } from '../src/routing/trace.js'
import { ClusterView } from '../src/view/view.js'
import { CORE_RESOURCES, FakeApiServer, GATEWAY_API_RESOURCES, ISTIO_RESOURCES } from './fake-apiserver.js'
import { runCli, tempDir } from './helpers.js'

const F = 'test/fixtures/trace/shop.yaml'

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['trace', ...args])
}

const view = () => {
  const v = new ClusterView()
  for (const o of loadObjects([F], 'default').objects) v.upsert(o.object)
  return v
}

t.test('requests from the command line', async (t) => {
  const r = parseRequest({ url: 'https://Shop.Example.com:8443/a%20b?x=1&y', method: 'post', headers: ['X-A: 1', 'Host: other.example.com:9'] })
  t.same(r, { scheme: 'https', host: 'other.example.com', port: 8443, method: 'POST', path: '/a b', query: 'x=1&y', headers: { 'X-A': '1', Host: 'other.example.com:9' }, sni: 'other.example.com', connect: 'shop.example.com' })
  t.equal(parseRequest({ url: 'http://10.0.0.1/' }).host, undefined, 'an address has no hostname')
  t.equal(parseRequest({ url: 'reviews:9080/r' }).port, 9080, 'no scheme: http')
  t.throws(() => parseRequest({ url: 'http://x', headers: ['nocolon'] }), TraceUsageError)
  t.throws(() => resolveGateway(view(), 'shop/web'), /both Gateway shop\/web \(gateway\.networking\.k8s\.io\) and Gateway shop\/web \(networking\.istio\.io\)/)
  t.equal(resolveGateway(view(), 'networking.istio.io/shop/web:80').kind, 'istio')
  t.throws(() => resolveGateway(view(), 'shop/none'), /no such Gateway/)
  t.throws(() => trace(view(), { url: 'http://x/' }), /--gateway .* or --from/)
})

t.test('Gateway API: precedence, hostnames, redirect, invalid backend, no route', async (t) => {
  const canary = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://www.shop.example.com/cart/1', headers: ['x-canary: true'] })
  t.match(canary, { status: 200, route: { kind: 'HTTPRoute', namespace: 'shop', name: 'cart', rule: 1, match: 0 }, backends: [{ kind: 'Service', namespace: 'shop', name: 'cart-canary', port: 8080, workloads: [{ kind: 'Deployment', name: 'cart-canary' }] }] })
  t.ok(canary.candidates.some((c) => c.name === 'cart' && c.rule === 0 && c.result === 'outranked' && /more headers/.test(c.why)), 'rule 0 lost: fewer headers')
  t.ok(canary.candidates.some((c) => c.name === 'catch-all' && c.result === 'hostname'), 'catch-all lost on the hostname')
  const stable = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://www.shop.example.com/cart/1' })
  t.match(stable, { status: 200, route: { name: 'cart', rule: 0 }, backendRequest: { method: 'GET', path: '/cart/1', host: 'www.shop.example.com' } })
  const redirect = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://a.shop.example.com/old' })
  t.match(redirect, { status: 301, redirect: { statusCode: 301, scheme: 'https', host: 'a.shop.example.com', port: null, path: '/new' }, backendRequest: null })
  const broken = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://a.shop.example.com/broken/x' })
  t.equal(broken.status, 500)
  t.match(broken.backends[0]?.invalid, /BackendNotFound/)
  const none = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://www.shop.example.com/elsewhere' })
  t.equal(none.status, 404)
  t.equal(none.route, null)
  t.equal(trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://other.example.com/' }).status, 404, 'no listener for the host')
})

t.test('Istio: mesh first match with subsets of workloads; the Istio Gateway with no VirtualService', async (t) => {
  const jason = trace(view(), { from: 'shop', url: 'http://cart:8080/', headers: ['end-user: jason'] })
  t.match(jason, { status: 200, route: { kind: 'VirtualService', name: 'cart', rule: 0, match: 0 }, backends: [{ name: 'cart-canary', workloads: [{ name: 'cart-canary' }] }] })
  t.ok(jason.candidates.some((c) => c.rule === 1 && c.result === 'shadowed'))
  const other = trace(view(), { from: 'shop', url: 'http://cart.shop.svc.cluster.local:8080/' })
  t.match(other, { route: { rule: 1 }, backends: [{ name: 'cart' }] })
  t.same(other.backends[0]!.workloads.map((w) => w.name).sort(), ['cart-canary', 'cart-v1'], 'the Service selects both Deployments')
  const frontend = trace(view(), { from: 'shop', url: 'http://frontend:8080/' })
  t.match(frontend, { status: 200, route: null, backends: [{ name: 'frontend', workloads: [{ name: 'frontend' }] }] }, 'no VirtualService: the Service')
  t.equal(trace(view(), { gateway: 'networking.istio.io/shop/web', url: 'http://www.shop.example.com/' }).status, 404, 'an Istio Gateway without VirtualServices')
})

t.test('the command line: JSON, exit codes, file:line', async (t) => {
  const ok = await cli([F, '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://www.shop.example.com/cart/2', '-o', 'json'])
  t.equal(ok.code, 0, ok.stderr)
  const doc = JSON.parse(ok.stdout)
  t.same(Object.keys(doc).slice(0, 6), ['status', 'route', 'backends', 'backendRequest', 'redirect', 'candidates'])
  t.match(doc.route, { kind: 'HTTPRoute', namespace: 'shop', name: 'cart', rule: 0, match: 0, source: `${F}:15` })
  const text = await cli([F, '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://www.shop.example.com/cart/2'])
  t.match(text.stdout, /^200 via Gateway shop\/web listener http\nroute: HTTPRoute shop\/cart rule 0 match 0 \(test\/fixtures\/trace\/shop\.yaml:15\)/)
  t.match(text.stdout, /workload: Deployment shop\/cart-v1/)
  t.equal((await cli([F, '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://www.shop.example.com/nothing'])).code, 1, '404: exit 1')
  t.equal((await cli([F, '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://a.shop.example.com/broken'])).code, 1, '500: exit 1')
  t.equal((await cli([F, '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://a.shop.example.com/old'])).code, 0, 'a redirect is routed: exit 0')
  const both = await cli([F, '--gateway', 'shop/web', '--url', 'http://x/'])
  t.equal(both.code, 2, 'a name both Gateway kinds have: usage error')
  t.match(both.stderr, /gateway\.networking\.k8s\.io\/shop\/web or networking\.istio\.io\/shop\/web/)
  t.equal((await cli([F, '--url', 'http://x/'])).code, 2, 'neither --gateway nor --from')
  t.equal((await cli(['--url', 'http://x/', '--from', 'shop'])).code, 2, 'no input')
})

t.test('against a cluster (the loopback API server): the same answer, Pods as workloads', async (t) => {
  const api = new FakeApiServer([...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES])
  await api.start()
  t.teardown(() => api.stop())
  for (const d of parseAllDocuments(readFileSync(F, 'utf8')).map((x) => x.toJS())) if (d.kind !== 'Deployment') api.put(d)
  api.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cart-v1-abc12', namespace: 'shop', labels: { app: 'cart', track: 'stable' } } })
  const dir = tempDir(t)
  writeFileSync(join(dir, 'kubeconfig'), JSON.stringify(api.kubeconfig()))
  const r = await cli(['--kubeconfig', join(dir, 'kubeconfig'), '--gateway', 'gateway.networking.k8s.io/shop/web', '--url', 'http://www.shop.example.com/cart/3', '-o', 'json'])
  t.equal(r.code, 0, r.stderr)
  const doc = JSON.parse(r.stdout)
  t.match(doc, { status: 200, route: { kind: 'HTTPRoute', namespace: 'shop', name: 'cart', rule: 0 }, backends: [{ name: 'cart', workloads: [{ kind: 'Pod', name: 'cart-v1-abc12' }] }] })
  t.notOk('source' in doc.route, 'no file:line for cluster objects')
  t.ok(api.requests.every((x) => x.method === 'GET'), 'read-only')
})

t.test('#28: a backendRef port the Service does not expose: ResolvedRefs=False/BackendNotFound, and its share answered 500', async (t) => {
  const { predictRouteStatus } = await import('../src/status/route-status.js')
  const v = new ClusterView()
  const objs = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'shop' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ port: 8080 }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'api', port: 9090 }] }] } },
  ]
  for (const o of objs) v.upsert(o as never)
  const status = predictRouteStatus(v.get(KIND.HTTPRoute, 'shop', 'r')!, v)
  t.match(status.parents[0]!.conditions, [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }])
  t.match(status.findings.map((f) => f.message), [/RG0205: .*Service shop\/api port 9090 \(the Service has 8080\)/])
  const r = trace(v, { url: 'http://shop.example.com/', gateway: 'gateway.networking.k8s.io/shop/gw' })
  t.equal(r.status, 500, 'the backend resolves to nothing')
  t.match(r.backends, [{ name: 'api', port: 9090, invalid: /has no port 9090/ }])
})

t.test('#28: Istio gateway VirtualServices of one host are merged oldest first, then catch-all routes go last (pilot SortVHostRoutes)', async (t) => {
  const { traceIstioGateway, isCatchAllRule } = await import('../src/routing/istio.js')
  const v = new ClusterView()
  const gw = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'shared', namespace: 'infra' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*/shop.example.com'] }] } }
  const vs = (ns: string, created: string, http: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'shop', namespace: ns, creationTimestamp: created }, spec: { hosts: ['shop.example.com'], gateways: ['infra/shared'], http } })
  const svc = (ns: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
  for (const o of [gw, svc('team-a'), svc('team-b'), vs('team-a', '2026-01-01T00:00:00Z', [{ route: [{ destination: { host: 'web' } }] }]), vs('team-b', '2026-02-01T00:00:00Z', [{ match: [{ uri: { prefix: '/checkout' } }], route: [{ destination: { host: 'web' } }] }])]) v.upsert(o as never)
  const at = (path: string) => traceIstioGateway(v, v.get(KIND.IstioGateway, 'infra', 'shared')!, { scheme: 'http', host: 'shop.example.com', port: 80, method: 'GET', path, headers: {} })
  t.match(at('/checkout/cart').route, { namespace: 'team-b', name: 'shop' }, "team A's older catch-all no longer outranks team B's /checkout")
  t.match(at('/').route, { namespace: 'team-a', name: 'shop' }, 'the rest still goes to team A')
  t.equal(isCatchAllRule({ match: [{ uri: { prefix: '/' } }] }), true)
  t.equal(isCatchAllRule({ match: [{ uri: { prefix: '/' }, headers: { x: { exact: '1' } } }] }), false, 'a header match is not a catch-all')
  t.equal(isCatchAllRule({ match: [{ method: { exact: 'GET' } }] }), false, 'a method is a header match in Envoy')
})

t.test('#28: a filter value the Gateway API does not define (redirect scheme, status code, path type): Accepted=False/UnsupportedValue and trace answers 500', async (t) => {
  const { predictRouteStatus } = await import('../src/status/route-status.js')
  const base = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'shop' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ port: 8080 }] } },
  ]
  const filters: [unknown, RegExp][] = [
    [{ type: 'RequestRedirect', requestRedirect: { scheme: 'ftp' } }, /requestRedirect\.scheme: unsupported value ftp/],
    [{ type: 'RequestRedirect', requestRedirect: { statusCode: 399 } }, /requestRedirect\.statusCode: unsupported value 399/],
    [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceRegexMatch', replaceRegexMatch: '/x' } } }, /urlRewrite\.path\.type: unsupported value ReplaceRegexMatch/],
  ]
  for (const [filter, message] of filters) {
    const v = new ClusterView()
    for (const o of [...base, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ filters: [filter], backendRefs: [{ name: 'api', port: 8080 }] }] } }]) v.upsert(o as never)
    const status = predictRouteStatus(v.get(KIND.HTTPRoute, 'shop', 'r')!, v)
    t.match(status.parents[0]!.conditions, [{ type: 'Accepted', status: 'False', reason: 'UnsupportedValue' }])
    t.match(status.findings.map((f) => f.message), [message])
    const r = trace(v, { url: 'http://shop.example.com/', gateway: 'gateway.networking.k8s.io/shop/gw' })
    t.equal(r.status, 500, `${JSON.stringify(filter)}: 500, neither redirected nor forwarded`)
    t.equal(r.redirect, null)
  }
})

t.test('#28: a ServiceImport backend (Extended) is routed to in trace, as the route status model accepts it', async (t) => {
  const { predictRouteStatus } = await import('../src/status/route-status.js')
  const v = new ClusterView()
  for (const o of [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'shop' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'api', port: 8080 }] }] } },
  ]) v.upsert(o as never)
  t.match(predictRouteStatus(v.get(KIND.HTTPRoute, 'shop', 'r')!, v).parents[0]!.conditions, [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }])
  const r = trace(v, { url: 'http://shop.example.com/', gateway: 'gateway.networking.k8s.io/shop/gw' })
  t.equal(r.status, 200, 'the same answer as the status model: routed')
  t.match(r.backends, [{ kind: 'ServiceImport', name: 'api', workloads: [] }])
  t.notOk(r.backends[0]!.invalid)
})

t.test('#28: a GAMMA consumer route applies only to clients in its namespace; there it precedes the producer VirtualService without ambiguity', async (t) => {
  const v = new ClusterView()
  const svc = (ns: string, name: string, app: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app }, ports: [{ port: 80 }] } })
  for (const o of [
    svc('shop', 'echo', 'echo'),
    svc('shop', 'echo-v2', 'echo-v2'),
    svc('client', 'canary', 'canary'),
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'echo', namespace: 'shop' }, spec: { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo-v2' } }] }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'mine', namespace: 'client' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo', namespace: 'shop', port: 80 }], rules: [{ backendRefs: [{ name: 'canary', port: 80 }] }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'client' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'client' }], to: [{ group: '', kind: 'Service' }] } },
  ]) v.upsert(o as never)
  const fromShop = trace(v, { url: 'http://echo.shop.svc.cluster.local/', from: 'shop' })
  t.match(fromShop.route, { kind: 'VirtualService', namespace: 'shop', name: 'echo' }, "from the Service's namespace the producer's VirtualService decides")
  t.notOk(fromShop.ambiguous, 'and nothing is ambiguous: the consumer route does not apply there')
  t.match(fromShop.backends, [{ name: 'echo-v2' }])
  const fromClient = trace(v, { url: 'http://echo.shop.svc.cluster.local/', from: 'client' })
  t.match(fromClient.route, { kind: 'HTTPRoute', namespace: 'client', name: 'mine' }, 'the consumer route decides for its namespace')
  t.notOk(fromClient.ambiguous, 'Istio prefers it: not ambiguous')
  t.ok(fromClient.candidates.some((c) => c.kind === 'VirtualService' && c.result === 'shadowed'), 'the VirtualService is named as shadowed')
})

t.test('#28: trace as curl reads it: the Host header picks the sidecar\'s VirtualService, the host connected to picks GAMMA routes; the output says which decided', async (t) => {
  const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })
  const gammaView = new ClusterView()
  for (const o of [svc('echo-v1'), svc('echo-v2'), svc('b1'), svc('b2'),
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'v1', namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo-v1', port: 80 }], rules: [{ backendRefs: [{ name: 'b1', port: 80 }] }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'v2', namespace: 'shop' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo-v2', port: 80 }], rules: [{ backendRefs: [{ name: 'b2', port: 80 }] }] } },
  ]) gammaView.upsert(o as never)
  const gamma = trace(gammaView, { url: 'http://echo-v2/', headers: ['Host: echo-v1'], from: 'shop' })
  t.match(gamma.route, { kind: 'HTTPRoute', name: 'v2' }, 'GAMMA: the Service connected to decides (MeshFrontendHostname)')
  t.match(gamma.via, /GAMMA routes follow the Service connected to, echo-v2, not the Host header echo-v1/)
  const istioView = new ClusterView()
  for (const o of [svc('echo-v1'), svc('echo-v2'), svc('b1'),
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v1', namespace: 'shop' }, spec: { hosts: ['echo-v1'], http: [{ route: [{ destination: { host: 'b1' } }] }] } },
  ]) istioView.upsert(o as never)
  const istio = trace(istioView, { url: 'http://echo-v2/', headers: ['Host: echo-v1'], from: 'shop' })
  t.match(istio.route, { kind: 'VirtualService', name: 'v1' }, "Istio: the sidecar's virtual host is the Host header's")
  t.match(istio.via, /the sidecar picked the VirtualService by the Host header echo-v1, not by echo-v2/)
  t.notOk(trace(istioView, { url: 'http://echo-v1/', from: 'shop' }).via.includes('Host header'), 'no Host header: nothing to say')
})

t.test('#28: TCP and UDP by port through a Gateway: the oldest TCPRoute/UDPRoute attached to the listener; UDPRoute status predicted', async (t) => {
  const { predictRouteStatus } = await import('../src/status/route-status.js')
  const v = new ClusterView()
  const svc = (name: string, port: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'infra' }, spec: { selector: { app: name }, ports: [{ port }] } })
  for (const o of [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'pg', port: 5432, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
    svc('db', 5432), svc('db-new', 5432), svc('coredns', 53),
    { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'db', namespace: 'infra', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { parentRefs: [{ name: 'edge', sectionName: 'pg' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'db-new', namespace: 'infra', creationTimestamp: '2026-02-01T00:00:00Z' }, spec: { parentRefs: [{ name: 'edge' }], rules: [{ backendRefs: [{ name: 'db-new', port: 5432 }] }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'UDPRoute', metadata: { name: 'dns', namespace: 'infra' }, spec: { parentRefs: [{ name: 'edge', sectionName: 'dns' }], rules: [{ backendRefs: [{ name: 'coredns', port: 53 }] }] } },
  ]) v.upsert(o as never)
  const tcp = trace(v, { url: 'tcp://db.example.com:5432', gateway: 'gateway.networking.k8s.io/infra/edge' })
  t.equal(tcp.status, 200)
  t.match(tcp.route, { kind: 'TCPRoute', name: 'db' }, 'the oldest TCPRoute on the listener')
  t.ok(tcp.candidates.some((c) => c.name === 'db-new' && c.result === 'shadowed'))
  const udp = trace(v, { url: 'udp://dns.example.com:53', gateway: 'gateway.networking.k8s.io/infra/edge' })
  t.match(udp.route, { kind: 'UDPRoute', name: 'dns' })
  t.match(udp.backends, [{ name: 'coredns', port: 53 }])
  t.equal(trace(v, { url: 'tcp://x:9999', gateway: 'gateway.networking.k8s.io/infra/edge' }).status, 404, 'no TCP listener on that port')
  t.throws(() => trace(v, { url: 'udp://x', gateway: 'gateway.networking.k8s.io/infra/edge' }), /udp needs a port/)
  t.match(predictRouteStatus(v.get(KIND.UDPRoute, 'infra', 'dns')!, v).parents[0]!.conditions, [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }], 'UDPRoute status predicted')
})

t.test('#28: tls://host:port with --sni reaches a TLS passthrough listener only (TLSRoute by SNI)', async (t) => {
  const v = new ClusterView()
  for (const o of [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }, { name: 'https', port: 8443, protocol: 'HTTPS', hostname: 'web.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'c' }] } }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'infra' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute', metadata: { name: 'db', namespace: 'infra' }, spec: { parentRefs: [{ name: 'edge', sectionName: 'tls' }], hostnames: ['db.example.com'], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] } },
  ]) v.upsert(o as never)
  const r = trace(v, { url: 'tls://10.0.0.9:443', sni: 'db.example.com', gateway: 'gateway.networking.k8s.io/infra/edge' })
  t.equal(r.status, 200)
  t.match(r.route, { kind: 'TLSRoute', name: 'db' })
  t.equal(trace(v, { url: 'tls://web.example.com:8443', gateway: 'gateway.networking.k8s.io/infra/edge' }).status, 404, 'an HTTPS (terminating) listener does not take a raw TLS connection')
  t.equal(trace(v, { url: 'tls://x:443', sni: 'other.example.com', gateway: 'gateway.networking.k8s.io/infra/edge' }).status, 404, 'no TLSRoute for that SNI')
})

t.test('#28: a Service without a selector: its Pods from its EndpointSlices\' targetRefs (files, and the cluster view strips slices to them)', async (t) => {
  const { strip } = await import('../src/cluster/strip.js')
  const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'manual-abc', namespace: 'infra', labels: { 'kubernetes.io/service-name': 'manual' } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: [
    { addresses: ['10.0.0.5'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'infra', name: 'infra-backend-v1-abc' }, nodeName: 'n1' },
    { addresses: ['10.0.0.6'], conditions: { ready: false }, targetRef: { kind: 'Pod', namespace: 'infra', name: 'not-ready' } },
  ] }
  const build = (s: unknown) => {
    const v = new ClusterView()
    for (const o of [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'infra' }, spec: { ports: [{ port: 8080 }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'infra' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'manual', port: 8080 }] }] } },
      s,
    ]) v.upsert(o as never)
    return trace(v, { url: 'http://x/', gateway: 'gateway.networking.k8s.io/infra/gw' })
  }
  t.same(build(slice).backends[0]!.workloads, [{ kind: 'Pod', namespace: 'infra', name: 'infra-backend-v1-abc' }], 'the ready endpoint\'s Pod')
  const stripped = strip(slice as never, 'discovery.k8s.io/v1', 'EndpointSlice')
  t.same((stripped as any).endpoints, [{ targetRef: { kind: 'Pod', namespace: 'infra', name: 'infra-backend-v1-abc' }, conditions: { ready: true } }, { targetRef: { kind: 'Pod', namespace: 'infra', name: 'not-ready' }, conditions: { ready: false } }], 'the cluster view keeps targetRefs and readiness only')
  t.same(build(stripped).backends[0]!.workloads, [{ kind: 'Pod', namespace: 'infra', name: 'infra-backend-v1-abc' }], 'the same answer from the stripped slice')
  t.same(build({ ...slice, endpoints: [] }).backends[0]!.workloads, [], 'empty slices (filled at run time): no Pod known')
})

t.test('BackendTLSPolicy in trace: the SNI the Gateway sends, the sectionName policy first, 500 for an invalid CA reference', async (t) => {
  const v = new ClusterView()
  for (const o of loadObjects(['test/fixtures/backend-tls/policies.yaml'], 'default').objects) v.upsert(o.object)
  const at = (path: string, headers: string[] = []) => trace(v, { gateway: 'gateway.networking.k8s.io/shop/gw', url: `http://shop.example.com${path}`, headers })
  const pay = at('/pay')
  t.match(pay, { status: 200, backends: [{ name: 'payments', port: 443, tls: { policy: 'BackendTLSPolicy shop/payments', sni: 'payments.shop.internal' } }], backendRequest: { sni: 'payments.shop.internal' } }, 'the oldest whole-Service policy (the newer one is Conflicted)')
  t.match(at('/admin'), { status: 200, backends: [{ port: 8443, tls: { policy: 'BackendTLSPolicy shop/payments-admin', sni: 'admin.shop.internal' } }] }, 'port admin: its sectionName policy, though newer')
  const orders = at('/orders')
  t.equal(orders.status, 500, 'an invalid caCertificateRef: connections fail')
  t.match(orders.backends[0]?.invalid, /^BackendTLSPolicy shop\/orders: ResolvedRefs=False\/InvalidCACertificateRef \(ConfigMap shop\/orders-ca not found\)/)
  t.equal(orders.backendRequest, null)
  t.equal(at('/legacy').status, 500, 'a ConfigMap without ca.crt')
  t.equal(at('/ws').status, 500, 'an unknown wellKnownCACertificates value: Accepted=False/Invalid')
  const text = formatTrace(pay)
  t.match(text, /tls: BackendTLSPolicy shop\/payments, SNI payments\.shop\.internal/)
  t.match(text, /backend receives: GET \/pay host shop\.example\.com over TLS, SNI payments\.shop\.internal/)
})

t.test('WebSocket: a handshake the route forwards is answered 101; the same request without Upgrade 200', async (t) => {
  const upgrade = ['Upgrade: websocket', 'Connection: keep-alive, Upgrade']
  const gw = trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://www.shop.example.com/cart/1', headers: upgrade })
  t.equal(gw.status, 101)
  t.equal(gw.backendRequest?.headers.Upgrade, 'websocket', 'the backend receives the handshake')
  t.equal(trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'ws://www.shop.example.com/cart/1' }).status, 101, 'a ws:// URL')
  t.equal(trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://www.shop.example.com/cart/1', headers: ['Upgrade: websocket'] }).status, 200, 'Upgrade without Connection: upgrade is no handshake')
  t.equal(trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://a.shop.example.com/broken/x', headers: upgrade }).status, 500, 'no usable backend: no upgrade')
  t.equal(trace(view(), { gateway: 'gateway.networking.k8s.io/shop/web', url: 'http://a.shop.example.com/old', headers: upgrade }).status, 301, 'a redirect stays a redirect')
  const mesh = trace(view(), { from: 'shop', url: 'http://cart:8080/', headers: upgrade })
  t.match(mesh, { status: 101, route: { kind: 'VirtualService', name: 'cart' } }, 'the sidecar passes the upgrade on')
})
