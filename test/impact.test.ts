/**
 * Change impact (impact/impact.ts, issue #25): a table of before/after scenarios, each asserting
 * the exact request lines `routeguard diff` and the webhook's `traffic:` warning print. The
 * views are built from objects; `diffViews` finds the changed objects as `diff` does.
 */
import t from 'tap'
import type { K8sObject } from '../src/model/object.js'
import { diffViews } from '../src/impact/diff.js'
import { moveLines } from '../src/impact/impact.js'
import { ClusterView } from '../src/view/view.js'

type Obj = Record<string, unknown>
const ts = (day: number) => `2026-01-${String(day).padStart(2, '0')}T00:00:00Z`
const meta = (namespace: string, name: string, day?: number, extra: Obj = {}) => ({ name, namespace, ...(day ? { creationTimestamp: ts(day) } : {}), ...extra })

const gateway = (listeners: Obj[] = [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]): Obj => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: meta('infra', 'shared', 1),
  spec: { gatewayClassName: 'istio', listeners },
})
const httpRoute = (ns: string, name: string, day: number | undefined, rules: Obj[], extra: Obj = {}): Obj => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: meta(ns, name, day),
  spec: { parentRefs: [{ name: 'shared', namespace: 'infra' }], hostnames: ['shop.example.com'], rules, ...extra },
})
const prefix = (value: string, backend: string, extra: Obj = {}): Obj => ({ matches: [{ path: { type: 'PathPrefix', value }, ...extra }], backendRefs: [{ name: backend, port: 80 }] })
const service = (ns: string, name: string, selector: Record<string, string> = { app: name }, port = 80): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(ns, name), spec: { selector, ports: [{ name: 'http', port }] } })
const deployment = (ns: string, name: string, labels: Record<string, string>): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: meta(ns, name),
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: name }] } } },
})
const vs = (ns: string, name: string, day: number, spec: Obj): Obj => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: meta(ns, name, day), spec })
const dr = (ns: string, name: string, host: string, subsets: Obj[]): Obj => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: meta(ns, name, 1), spec: { host, subsets } })

const SHOP = [gateway(), service('team-a', 'shop'), service('team-a', 'shop-v2'), service('team-b', 'checkout'), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop')])]
const CHECKOUT = httpRoute('team-b', 'checkout', 3, [prefix('/checkout', 'checkout')])
const BOOKINFO = [
  service('bookinfo', 'reviews', { app: 'reviews' }, 9080),
  deployment('bookinfo', 'reviews-v1', { app: 'reviews', version: 'v1' }),
  deployment('bookinfo', 'reviews-v2', { app: 'reviews', version: 'v2' }),
  dr('bookinfo', 'reviews', 'reviews', [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }]),
]
const reviewsVs = (route: Obj[], extra: Obj = {}) => vs('bookinfo', 'reviews', 2, { hosts: ['reviews'], http: [{ route }], ...extra })
const ISTIO_GW: Obj = { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: meta('istio-system', 'public', 1), spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*/shop.example.com'] }] } }
const grpcRoute = (ns: string, name: string, day: number, method: Obj, backend: string): Obj => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: meta(ns, name, day),
  spec: { parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'grpc' }], hostnames: ['grpc.example.com'], rules: [{ matches: [{ method }], backendRefs: [{ name: backend, port: 80 }] }] },
})
const GRPC_GW = gateway([{ name: 'grpc', port: 8443, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }])

interface Scenario {
  name: string
  before: Obj[]
  after: Obj[]
  lines: string[]
}

const scenarios: Scenario[] = [
  {
    name: 'shared Gateway, two teams: a longer prefix takes the requests under it',
    before: SHOP,
    after: [...SHOP, CHECKOUT],
    lines: ['GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0', 'GET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0'],
  },
  {
    name: 'a new /checkout also takes what an older route\'s header match took under it (path outranks headers)',
    before: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop'), prefix('/', 'shop-v2', { headers: [{ name: 'x-beta', value: 'on' }] })])],
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop'), prefix('/', 'shop-v2', { headers: [{ name: 'x-beta', value: 'on' }] })]), CHECKOUT],
    lines: [
      'GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0',
      'GET http://shop.example.com/checkout with x-beta: on: HTTPRoute team-a/shop rule 1 → HTTPRoute team-b/checkout rule 0',
      'GET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0',
      'GET http://shop.example.com/checkout/x with x-beta: on: HTTPRoute team-a/shop rule 1 → HTTPRoute team-b/checkout rule 0',
    ],
  },
  {
    name: 'an exact path takes that path only',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'checkout', 3, [{ matches: [{ path: { type: 'Exact', value: '/checkout' } }], backendRefs: [{ name: 'checkout', port: 80 }] }])],
    lines: ['GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0'],
  },
  {
    name: 'a header match outranks the same path without one',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'beta', 3, [prefix('/', 'checkout', { headers: [{ name: 'x-team', value: 'b' }] })])],
    lines: ['GET http://shop.example.com/ with x-team: b: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/beta rule 0'],
  },
  {
    name: 'a method match outranks the same path without one',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'writes', 3, [prefix('/', 'checkout', { method: 'POST' })])],
    lines: ['POST http://shop.example.com/: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/writes rule 0'],
  },
  {
    name: 'a query match outranks the same path without one',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'debug', 3, [prefix('/', 'checkout', { queryParams: [{ name: 'debug', value: '1' }] })])],
    lines: ['GET http://shop.example.com/?debug=1: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/debug rule 0'],
  },
  {
    name: 'an exact hostname outranks a wildcard one',
    before: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop')], { hostnames: ['*.example.com'] })],
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop')], { hostnames: ['*.example.com'] }), httpRoute('team-b', 'shop-b', 3, [prefix('/', 'checkout')])],
    lines: ['GET http://shop.example.com/: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/shop-b rule 0'],
  },
  {
    name: 'sectionName: a route on another listener takes requests there only',
    before: [gateway([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }, { name: 'alt', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]), ...SHOP.slice(1)],
    after: [
      gateway([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }, { name: 'alt', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]),
      ...SHOP.slice(1),
      httpRoute('team-b', 'alt', 3, [prefix('/checkout', 'checkout')], { parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'alt' }] }),
    ],
    lines: ['GET http://shop.example.com:8080/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/alt rule 0', 'GET http://shop.example.com:8080/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/alt rule 0'],
  },
  {
    name: 'a new listener: the routes without sectionName attach to it too',
    before: SHOP,
    after: [gateway([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }, { name: 'alt', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]), ...SHOP.slice(1)],
    lines: ['GET http://shop.example.com:8080/: no route (404) → HTTPRoute team-a/shop rule 0'],
  },
  {
    name: 'weights 80/20 → 50/50',
    before: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [{ backendRefs: [{ name: 'shop', port: 80, weight: 80 }, { name: 'shop-v2', port: 80, weight: 20 }] }])],
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [{ backendRefs: [{ name: 'shop', port: 80, weight: 50 }, { name: 'shop-v2', port: 80, weight: 50 }] }])],
    lines: ['GET http://shop.example.com/: HTTPRoute team-a/shop rule 0 (shop 80%, shop-v2 20%) → HTTPRoute team-a/shop rule 0 (shop 50%, shop-v2 50%)'],
  },
  {
    name: 'a redirect added for a prefix',
    before: SHOP,
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop'), { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }])],
    lines: [
      'GET http://shop.example.com/old: HTTPRoute team-a/shop rule 0 → HTTPRoute team-a/shop rule 1 (redirect 301 https://shop.example.com/old)',
      'GET http://shop.example.com/old/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-a/shop rule 1 (redirect 301 https://shop.example.com/old/x)',
    ],
  },
  {
    name: 'a backend swapped',
    before: SHOP,
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop-v2')])],
    lines: ['GET http://shop.example.com/: HTTPRoute team-a/shop rule 0 (shop 100%) → HTTPRoute team-a/shop rule 0 (shop-v2 100%)'],
  },
  {
    name: 'a rewrite added: the backend gets another path',
    before: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/api', 'shop')])],
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [{ ...prefix('/api', 'shop'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } }] }])],
    lines: [
      'GET http://shop.example.com/api: HTTPRoute team-a/shop rule 0 (backend gets /api) → HTTPRoute team-a/shop rule 0 (backend gets /v1)',
      'GET http://shop.example.com/api/x: HTTPRoute team-a/shop rule 0 (backend gets /api/x) → HTTPRoute team-a/shop rule 0 (backend gets /v1/x)',
    ],
  },
  {
    name: 'the Gateway takes routes from its own namespace only: the team route is detached',
    before: SHOP,
    after: [gateway([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }]), ...SHOP.slice(1)],
    lines: ['GET http://shop.example.com/: HTTPRoute team-a/shop rule 0 → no route (404)'],
  },
  {
    name: 'GRPCRoute: a method match takes that method from a service match',
    before: [GRPC_GW, service('team-a', 'cart'), service('team-b', 'checkout'), grpcRoute('team-a', 'cart', 2, { service: 'shop.Cart' }, 'cart')],
    after: [GRPC_GW, service('team-a', 'cart'), service('team-b', 'checkout'), grpcRoute('team-a', 'cart', 2, { service: 'shop.Cart' }, 'cart'), grpcRoute('team-b', 'checkout', 3, { service: 'shop.Cart', method: 'Checkout' }, 'checkout')],
    lines: ['POST http://grpc.example.com:8443/shop.Cart/Checkout with content-type: application/grpc: GRPCRoute team-a/cart rule 0 → GRPCRoute team-b/checkout rule 0'],
  },
  {
    name: 'Istio Gateway: another namespace\'s VirtualService with /checkout goes before the older catch-all (SortVHostRoutes)',
    before: [ISTIO_GW, service('team-a', 'shop'), service('team-b', 'checkout'), vs('team-a', 'shop', 2, { hosts: ['shop.example.com'], gateways: ['istio-system/public'], http: [{ route: [{ destination: { host: 'shop.team-a.svc.cluster.local' } }] }] })],
    after: [
      ISTIO_GW,
      service('team-a', 'shop'),
      service('team-b', 'checkout'),
      vs('team-a', 'shop', 2, { hosts: ['shop.example.com'], gateways: ['istio-system/public'], http: [{ route: [{ destination: { host: 'shop.team-a.svc.cluster.local' } }] }] }),
      vs('team-b', 'checkout', 3, { hosts: ['shop.example.com'], gateways: ['istio-system/public'], http: [{ match: [{ uri: { prefix: '/checkout' } }], route: [{ destination: { host: 'checkout.team-b.svc.cluster.local' } }] }] }),
    ],
    lines: [
      'GET http://shop.example.com/checkout: VirtualService team-a/shop rule 0 → VirtualService team-b/checkout rule 0',
      'GET http://shop.example.com/checkout/x: VirtualService team-a/shop rule 0 → VirtualService team-b/checkout rule 0',
      'GET http://shop.example.com/checkoutx: VirtualService team-a/shop rule 0 → VirtualService team-b/checkout rule 0',
    ],
  },
  {
    name: 'a mesh VirtualService, then a GAMMA HTTPRoute for the same Service (RG0102: the mesh keeps one)',
    before: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v1' } }], { exportTo: ['.'] })],
    after: [
      ...BOOKINFO,
      reviewsVs([{ destination: { host: 'reviews', subset: 'v1' } }], { exportTo: ['.'] }),
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta('bookinfo', 'reviews', 3), spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] } },
    ],
    lines: [
      'GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace bookinfo: VirtualService bookinfo/reviews rule 0 → HTTPRoute bookinfo/reviews rule 0',
      'GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace default: no route: Service bookinfo/reviews → HTTPRoute bookinfo/reviews rule 0',
    ],
  },
  {
    name: 'a DestinationRule subset whose labels change: other workloads',
    before: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v1' } }], { exportTo: ['.'] })],
    after: [
      ...BOOKINFO.slice(0, 3),
      dr('bookinfo', 'reviews', 'reviews', [{ name: 'v1', labels: { version: 'v2' } }, { name: 'v2', labels: { version: 'v2' } }]),
      reviewsVs([{ destination: { host: 'reviews', subset: 'v1' } }], { exportTo: ['.'] }),
    ],
    lines: ['GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace bookinfo: VirtualService bookinfo/reviews rule 0 (workloads bookinfo/reviews-v1) → VirtualService bookinfo/reviews rule 0 (workloads bookinfo/reviews-v2)'],
  },
  {
    name: 'mesh weights: all to v1 → half to v2',
    before: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v1' } }], { exportTo: ['.'] })],
    after: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 50 }], { exportTo: ['.'] })],
    lines: [
      'GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace bookinfo: VirtualService bookinfo/reviews rule 0 (reviews/v1 100%; workloads bookinfo/reviews-v1) → VirtualService bookinfo/reviews rule 0 (reviews/v1 50%, reviews/v2 50%; workloads bookinfo/reviews-v1, bookinfo/reviews-v2)',
    ],
  },
  {
    name: 'exportTo narrowed to its own namespace: other namespaces go to the Service itself',
    before: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v2' } }])],
    after: [...BOOKINFO, reviewsVs([{ destination: { host: 'reviews', subset: 'v2' } }], { exportTo: ['.'] })],
    lines: ['GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace default: VirtualService bookinfo/reviews rule 0 → no route: Service bookinfo/reviews'],
  },
  {
    name: 'a GAMMA consumer route applies in its own namespace only (GEP-1426)',
    before: [...BOOKINFO, service('bookinfo', 'reviews-v2', { app: 'reviews', version: 'v2' }, 9080)],
    after: [
      ...BOOKINFO,
      service('bookinfo', 'reviews-v2', { app: 'reviews', version: 'v2' }, 9080),
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta('frontend', 'reviews-canary', 3), spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', namespace: 'bookinfo', port: 9080 }], rules: [{ backendRefs: [{ name: 'reviews-v2', namespace: 'bookinfo', port: 9080 }] }] } },
      { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: meta('bookinfo', 'frontend'), spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'frontend' }], to: [{ group: '', kind: 'Service' }] } },
    ],
    lines: ['GET http://reviews.bookinfo.svc.cluster.local:9080/ from namespace frontend: no route: Service bookinfo/reviews → HTTPRoute frontend/reviews-canary rule 0'],
  },
  {
    name: 'a delete uncovers the older route',
    before: [...SHOP, CHECKOUT],
    after: SHOP,
    lines: ['GET http://shop.example.com/checkout: HTTPRoute team-b/checkout rule 0 → HTTPRoute team-a/shop rule 0', 'GET http://shop.example.com/checkout/x: HTTPRoute team-b/checkout rule 0 → HTTPRoute team-a/shop rule 0'],
  },
  {
    name: 'a new hostname: requests nobody served before',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'other', 3, [prefix('/', 'checkout')], { hostnames: ['other.example.com'] })],
    lines: ['GET http://other.example.com/: no route (404) → HTTPRoute team-b/other rule 0'],
  },
  { name: 'a rename moves nothing', before: [...SHOP, CHECKOUT], after: [...SHOP, { ...CHECKOUT, metadata: meta('team-b', 'checkout-v2', 3) }], lines: [] },
  {
    name: 'rules reordered in an HTTPRoute move nothing (precedence is by match, not order)',
    before: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/', 'shop'), prefix('/v2', 'shop-v2')])],
    after: [...SHOP.slice(0, 4), httpRoute('team-a', 'shop', 2, [prefix('/v2', 'shop-v2'), prefix('/', 'shop')])],
    lines: [],
  },
  {
    name: 'VirtualService rules that do not overlap, reordered, move nothing',
    before: [...BOOKINFO, vs('bookinfo', 'reviews', 2, { hosts: ['reviews'], exportTo: ['.'], http: [{ match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] }, { match: [{ uri: { prefix: '/b' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] })],
    after: [...BOOKINFO, vs('bookinfo', 'reviews', 2, { hosts: ['reviews'], exportTo: ['.'], http: [{ match: [{ uri: { prefix: '/b' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }] }, { match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] })],
    lines: [],
  },
  { name: 'labels on a route move nothing', before: [...SHOP, CHECKOUT], after: [...SHOP, { ...CHECKOUT, metadata: { ...(CHECKOUT.metadata as Obj), labels: { team: 'b' } } }], lines: [] },
  {
    name: 'a route that loses to an older identical match moves nothing',
    before: SHOP,
    after: [...SHOP, httpRoute('team-b', 'late', 3, [prefix('/', 'checkout')])],
    lines: [],
  },
]

const viewOf = (objs: Obj[]) => {
  const v = new ClusterView()
  for (const o of objs) v.upsert(structuredClone(o) as K8sObject)
  return v
}

t.test(`change impact: ${scenarios.length} before/after scenarios, each with its exact request lines`, async (t) => {
  t.ok(scenarios.length >= 25)
  for (const s of scenarios) {
    const d = diffViews(viewOf(s.before), viewOf(s.after))
    if (process.env.IMPACT_PRINT) console.error(s.name, JSON.stringify(moveLines(d.impact.moves), null, 1))
    t.same(moveLines(d.impact.moves), s.lines, s.name)
    t.equal(d.impact.evaluated, d.impact.total, `${s.name}: every class evaluated`)
  }
})

t.test('TCPRoute and TLSRoute changes: the connection, not a request line', async (t) => {
  const gw = gateway([
    { name: 'tcp', port: 9000, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'tls', port: 443, protocol: 'TLS', hostname: 'db.example.com', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'All' } } },
  ])
  const l4 = (kind: string, name: string, backend: string, extra: Obj = {}): Obj => ({
    apiVersion: kind === 'TCPRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1',
    kind,
    metadata: meta('team-a', name, 2),
    spec: { parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: kind === 'TCPRoute' ? 'tcp' : 'tls' }], rules: [{ backendRefs: [{ name: backend, port: 80 }] }], ...extra },
  })
  const base = [gw, service('team-a', 'db'), service('team-a', 'db-v2')]
  const tcp = diffViews(viewOf([...base, l4('TCPRoute', 'db', 'db')]), viewOf([...base, l4('TCPRoute', 'db', 'db-v2')]))
  t.same(moveLines(tcp.impact.moves), ['tcp://<address>:9000: TCPRoute team-a/db rule 0 (db 100%) → TCPRoute team-a/db rule 0 (db-v2 100%)'])
  const tls = diffViews(viewOf([...base, l4('TLSRoute', 'db', 'db', { hostnames: ['db.example.com'] })]), viewOf([...base, l4('TLSRoute', 'db', 'db-v2', { hostnames: ['db.example.com'] })]))
  t.same(moveLines(tls.impact.moves), ['tls://db.example.com:443: TLSRoute team-a/db rule 0 (db 100%) → TLSRoute team-a/db rule 0 (db-v2 100%)'])
})

t.test('admission: the change is tried on the view and taken back; past its budget the impact is cut short, the review goes on', async (t) => {
  const { admissionImpact } = await import('../src/impact/impact.js')
  const { withDeadline } = await import('../src/deadline.js')
  const many = Array.from({ length: 300 }, (_, i) => httpRoute(`team-${i}`, `r${i}`, 2, [prefix(`/p${i}`, 'shop')]))
  const view = viewOf([...SHOP, ...many])
  const heard: string[] = []
  view.onChange((id) => heard.push(id))
  const sizeBefore = view.size()
  const change = { after: structuredClone(CHECKOUT) as unknown as K8sObject }
  const full = admissionImpact(view, change)
  t.equal(full.evaluated, full.total, 'no budget: every class')
  t.equal(full.total, 4, 'the 300 other routes\' paths are not ones /checkout can take: /, /checkout, /checkout/x, /checkoutx')
  t.same(moveLines(full.moves), ['GET http://shop.example.com/checkout: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0', 'GET http://shop.example.com/checkout/x: HTTPRoute team-a/shop rule 0 → HTTPRoute team-b/checkout rule 0'])
  t.equal(view.size(), sizeBefore, 'the view is as it was')
  t.equal(view.get('gateway.networking.k8s.io/HTTPRoute', 'team-b', 'checkout'), undefined, 'the tried object is gone again')
  t.same(heard, [], 'listeners heard nothing')
  const catchAll = { after: httpRoute('team-b', 'all', 3, [prefix('/', 'checkout', { headers: [{ name: 'x-b', value: '1' }] })]) as unknown as K8sObject }
  const wide = admissionImpact(view, catchAll)
  t.equal(wide.evaluated, 256, 'a catch-all can take any path: capped at 256 classes')
  t.ok(wide.total > 256, `and counted (${wide.total})`)
  const cut = withDeadline(10_000, () => admissionImpact(view, catchAll, { budgetMs: 1 }))
  t.ok(cut.evaluated < wide.evaluated && cut.evaluated <= cut.total, `budget 1 ms: ${cut.evaluated} of ${cut.total} evaluated, no throw`)
  t.equal(view.size(), sizeBefore, 'restored after a cut too')
})
