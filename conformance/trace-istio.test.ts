/**
 * `routeguard trace` on Istio configuration: a table of requests with what Istio's documentation
 * says happens, each row naming the istio.io section it follows. Inputs are the Bookinfo and
 * httpbin samples in ../shared/samples/istio, plus small VirtualServices written here after the
 * examples of the VirtualService reference. Run through `trace()` as the command line does.
 */
import { join } from 'node:path'
import t from 'tap'
import { loadObjects, parseObjects } from '../src/analyze/load.js'
import { trace, type TraceOptions } from '../src/routing/trace.js'
import type { TraceResult } from '../src/routing/types.js'
import { ClusterView } from '../src/view/view.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'
const B = join(SHARED, 'samples/istio/bookinfo')
const BOOKINFO = [join(B, 'platform/kube/bookinfo.yaml'), join(B, 'networking/destination-rule-all.yaml')]
const net = (f: string) => join(B, 'networking', f)
const HTTPBIN = [join(SHARED, 'samples/istio/httpbin/httpbin.yaml'), join(SHARED, 'samples/istio/httpbin/httpbin-gateway.yaml')]

const TR = 'https://istio.io/latest/docs/tasks/traffic-management'
const REF = 'https://istio.io/latest/docs/reference/config/networking/virtual-service'

interface Row {
  name: string
  /** the istio.io section the expectation follows */
  doc: string
  files: string[]
  /** extra manifests written here (YAML) */
  yaml?: string
  request: TraceOptions
  expect: {
    status: number
    /** `ns/name rule` of the winning VirtualService rule; null for none */
    route?: string | null
    /** `name[:subset]=weight`, in order */
    backends?: string[]
    /** workload names of the first backend */
    workloads?: string[]
    /** request-target the backend receives */
    path?: string
    host?: string
    headers?: Record<string, string>
    redirect?: string
    ambiguous?: RegExp
    mirrors?: string[]
    policies?: Record<string, unknown>
  }
}

const vs = (name: string, spec: string, ns = 'default', extra = '') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}${extra}}
spec:
${spec}
---
`

const rows: Row[] = [
  { name: 'no VirtualService: the Service, every version', doc: `${TR}/request-routing/ (before applying a VirtualService: reviews round-robins v1, v2, v3)`, files: BOOKINFO, request: { from: 'default', url: 'http://reviews:9080/reviews/0' }, expect: { status: 200, route: null, backends: ['reviews=100'], workloads: ['reviews-v1', 'reviews-v2', 'reviews-v3'], path: '/reviews/0' } },
  { name: 'all-v1: reviews to v1', doc: `${TR}/request-routing/#apply-a-virtual-service`, files: [...BOOKINFO, net('virtual-service-all-v1.yaml')], request: { from: 'default', url: 'http://reviews:9080/reviews/0' }, expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v1=100'], workloads: ['reviews-v1'] } },
  { name: 'all-v1: details to v1', doc: `${TR}/request-routing/#apply-a-virtual-service`, files: [...BOOKINFO, net('virtual-service-all-v1.yaml')], request: { from: 'default', url: 'http://details:9080/details/0' }, expect: { status: 200, route: 'default/details 0', backends: ['details:v1=100'], workloads: ['details-v1'] } },
  { name: 'all-v1: productpage by FQDN', doc: `${TR}/request-routing/#apply-a-virtual-service`, files: [...BOOKINFO, net('virtual-service-all-v1.yaml')], request: { from: 'default', url: 'http://productpage.default.svc.cluster.local:9080/productpage' }, expect: { status: 200, route: 'default/productpage 0', backends: ['productpage:v1=100'] } },
  { name: 'all-v1: reviews.default from another namespace', doc: `${REF}/#VirtualService (hosts: short names are interpreted in the VirtualService's namespace; exportTo defaults to all namespaces)`, files: [...BOOKINFO, net('virtual-service-all-v1.yaml')], request: { from: 'shop', url: 'http://reviews.default:9080/' }, expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v1=100'] } },
  { name: 'user identity: jason to v2', doc: `${TR}/request-routing/#route-based-on-user-identity`, files: [...BOOKINFO, net('virtual-service-reviews-test-v2.yaml')], request: { from: 'default', url: 'http://reviews:9080/reviews/0', headers: ['end-user: jason'] }, expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v2=100'], workloads: ['reviews-v2'], headers: { 'end-user': 'jason' } } },
  { name: 'user identity: no end-user to v1', doc: `${TR}/request-routing/#route-based-on-user-identity`, files: [...BOOKINFO, net('virtual-service-reviews-test-v2.yaml')], request: { from: 'default', url: 'http://reviews:9080/reviews/0' }, expect: { status: 200, route: 'default/reviews 1', backends: ['reviews:v1=100'] } },
  { name: 'user identity: another user to v1', doc: `${TR}/request-routing/#route-based-on-user-identity`, files: [...BOOKINFO, net('virtual-service-reviews-test-v2.yaml')], request: { from: 'default', url: 'http://reviews:9080/reviews/0', headers: ['end-user: mike'] }, expect: { status: 200, route: 'default/reviews 1', backends: ['reviews:v1=100'] } },
  { name: 'traffic shifting 50/50 v1/v3', doc: `${TR}/traffic-shifting/#apply-weight-based-routing`, files: [...BOOKINFO, net('virtual-service-reviews-50-v3.yaml')], request: { from: 'default', url: 'http://reviews:9080/' }, expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v1=50', 'reviews:v3=50'] } },
  { name: 'traffic shifting 80/20', doc: `${TR}/traffic-shifting/`, files: [...BOOKINFO, net('virtual-service-reviews-80-20.yaml')], request: { from: 'default', url: 'http://reviews:9080/' }, expect: { status: 200, backends: ['reviews:v1=80', 'reviews:v2=20'] } },
  { name: 'traffic shifting 90/10', doc: `${TR}/traffic-shifting/`, files: [...BOOKINFO, net('virtual-service-reviews-90-10.yaml')], request: { from: 'default', url: 'http://reviews:9080/' }, expect: { status: 200, backends: ['reviews:v1=90', 'reviews:v2=10'] } },
  { name: 'traffic shifting: all to v3', doc: `${TR}/traffic-shifting/#apply-weight-based-routing`, files: [...BOOKINFO, net('virtual-service-reviews-v3.yaml')], request: { from: 'default', url: 'http://reviews:9080/' }, expect: { status: 200, backends: ['reviews:v3=100'], workloads: ['reviews-v3'] } },
  { name: 'jason to v2, everyone else to v3', doc: `${TR}/request-routing/ (virtual-service-reviews-jason-v2-v3.yaml)`, files: [...BOOKINFO, net('virtual-service-reviews-jason-v2-v3.yaml')], request: { from: 'default', url: 'http://reviews:9080/', headers: ['end-user: jason'] }, expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v2=100'] } },
  { name: 'jason-v2-v3: others to v3', doc: `${TR}/request-routing/ (virtual-service-reviews-jason-v2-v3.yaml)`, files: [...BOOKINFO, net('virtual-service-reviews-jason-v2-v3.yaml')], request: { from: 'default', url: 'http://reviews:9080/' }, expect: { status: 200, route: 'default/reviews 1', backends: ['reviews:v3=100'] } },
  { name: 'fault injection: abort 500 for jason', doc: `${TR}/fault-injection/#injecting-an-http-abort-fault`, files: [...BOOKINFO, net('virtual-service-ratings-test-abort.yaml')], request: { from: 'default', url: 'http://ratings:9080/ratings/0', headers: ['end-user: jason'] }, expect: { status: 500, route: 'default/ratings 0' } },
  { name: 'fault injection: no abort for others', doc: `${TR}/fault-injection/#injecting-an-http-abort-fault`, files: [...BOOKINFO, net('virtual-service-ratings-test-abort.yaml')], request: { from: 'default', url: 'http://ratings:9080/ratings/0' }, expect: { status: 200, route: 'default/ratings 1', backends: ['ratings:v1=100'] } },
  { name: 'fault injection: a delay still reaches ratings', doc: `${TR}/fault-injection/#injecting-an-http-delay-fault`, files: [...BOOKINFO, net('virtual-service-ratings-test-delay.yaml')], request: { from: 'default', url: 'http://ratings:9080/ratings/0', headers: ['end-user: jason'] }, expect: { status: 200, route: 'default/ratings 0', backends: ['ratings:v1=100'] } },
  { name: 'fault injection: details aborts with 555', doc: `${TR}/fault-injection/ (fault-injection-details-v1.yaml)`, files: [...BOOKINFO, net('fault-injection-details-v1.yaml')], request: { from: 'default', url: 'http://details:9080/details/0' }, expect: { status: 555, route: 'default/details 0' } },
  { name: 'ingress: /productpage', doc: 'https://istio.io/latest/docs/examples/bookinfo/#determine-the-ingress-ip-and-port', files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'networking.istio.io/default/bookinfo-gateway', url: 'http://bookinfo.example.com:8080/productpage' }, expect: { status: 200, route: 'default/bookinfo 0', backends: ['productpage=100'], workloads: ['productpage-v1'], path: '/productpage' } },
  { name: 'ingress: /static prefix', doc: 'https://istio.io/latest/docs/examples/bookinfo/', files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'default/bookinfo-gateway', url: 'http://1.2.3.4:8080/static/bootstrap.css' }, expect: { status: 200, route: 'default/bookinfo 0', backends: ['productpage=100'] } },
  { name: 'ingress: /api/v1/products prefix', doc: 'https://istio.io/latest/docs/examples/bookinfo/', files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'default/bookinfo-gateway', url: 'http://bookinfo.example.com:8080/api/v1/products/0/reviews' }, expect: { status: 200, route: 'default/bookinfo 0' } },
  { name: 'ingress: /login is exact, /login/x is not', doc: `${REF}/#StringMatch (exact)`, files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'default/bookinfo-gateway', url: 'http://bookinfo.example.com:8080/login/x' }, expect: { status: 404, route: null } },
  { name: 'ingress: no rule for /admin', doc: `${REF}/#HTTPRoute (no rule matches: 404)`, files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'default/bookinfo-gateway', url: 'http://bookinfo.example.com:8080/admin' }, expect: { status: 404, route: null } },
  { name: 'ingress: no server on port 80', doc: 'https://istio.io/latest/docs/reference/config/networking/gateway/#Server', files: [...BOOKINFO, net('bookinfo-gateway.yaml')], request: { gateway: 'default/bookinfo-gateway', url: 'http://bookinfo.example.com/productpage' }, expect: { status: 404, route: null } },
  { name: 'httpbin ingress', doc: `${TR}/ingress/ingress-control/`, files: HTTPBIN, request: { gateway: 'default/httpbin-gateway', url: 'http://httpbin.example.com/headers' }, expect: { status: 200, route: 'default/httpbin 0', backends: ['httpbin=100'], workloads: ['httpbin'], host: 'httpbin.example.com' } },
  {
    name: 'HTTPRedirect: uri and authority, 301',
    doc: `${REF}/#HTTPRedirect`,
    files: BOOKINFO,
    yaml: vs('ratings-route', `  hosts: [ratings.prod.svc.cluster.local]\n  http:\n  - match:\n    - uri: {exact: /v1/getProductRatings}\n    redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local}\n`, 'prod') + 'apiVersion: v1\nkind: Service\nmetadata: {name: ratings, namespace: prod}\nspec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}\n',
    request: { from: 'prod', url: 'http://ratings:9080/v1/getProductRatings' },
    expect: { status: 301, route: 'prod/ratings-route 0', redirect: '301 http://newratings.default.svc.cluster.local/v1/bookRatings' },
  },
  {
    name: 'HTTPRewrite: the matched prefix is replaced',
    doc: `${REF}/#HTTPRewrite`,
    files: BOOKINFO,
    yaml: vs('ratings-route', `  hosts: [ratings]\n  http:\n  - match:\n    - uri: {prefix: /ratings}\n    rewrite: {uri: /v1/bookRatings}\n    route:\n    - destination: {host: ratings, subset: v1}\n`),
    request: { from: 'default', url: 'http://ratings:9080/ratings/2?x=1' },
    expect: { status: 200, route: 'default/ratings-route 0', path: '/v1/bookRatings/2?x=1', backends: ['ratings:v1=100'] },
  },
  {
    name: 'HTTPRewrite without a uri match: the prefix / is replaced (Envoy prefix_rewrite)',
    doc: `${REF}/#HTTPRewrite (uri: "rewrite the path (or the prefix) portion of the URI")`,
    files: BOOKINFO,
    yaml: vs('ratings-route', `  hosts: [ratings]\n  http:\n  - rewrite: {uri: /v2/}\n    route:\n    - destination: {host: ratings}\n`),
    request: { from: 'default', url: 'http://ratings:9080/health' },
    expect: { status: 200, path: '/v2/health' },
  },
  {
    name: 'rewrite.authority: the backend gets another Host',
    doc: `${REF}/#HTTPRewrite`,
    files: BOOKINFO,
    yaml: vs('details', `  hosts: [details]\n  http:\n  - rewrite: {authority: details.internal}\n    route:\n    - destination: {host: details}\n`),
    request: { from: 'default', url: 'http://details:9080/details/1' },
    expect: { status: 200, host: 'details.internal', path: '/details/1' },
  },
  {
    name: 'delegate: the delegate rule serves, matched under the root rule',
    doc: `${REF}/#Delegate`,
    files: [...BOOKINFO, net('bookinfo-gateway.yaml')],
    yaml:
      vs('root', `  hosts: [shop.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - match:\n    - uri: {prefix: /productpage}\n    delegate: {name: productpage, namespace: default}\n  - route:\n    - destination: {host: details}\n`) +
      vs('productpage', `  http:\n  - match:\n    - uri: {prefix: /productpage/v2}\n    route:\n    - destination: {host: productpage, subset: v1}\n  - route:\n    - destination: {host: productpage}\n`),
    request: { gateway: 'default/bookinfo-gateway', url: 'http://shop.example.com:8080/productpage/v2/x' },
    expect: { status: 200, route: 'default/productpage 0', backends: ['productpage:v1=100'] },
  },
  {
    name: 'delegate: a request outside the root match goes on to the next root rule',
    doc: `${REF}/#Delegate`,
    files: [...BOOKINFO, net('bookinfo-gateway.yaml')],
    yaml:
      vs('root', `  hosts: [shop.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - match:\n    - uri: {prefix: /productpage}\n    delegate: {name: productpage, namespace: default}\n  - route:\n    - destination: {host: details}\n`) +
      vs('productpage', `  http:\n  - route:\n    - destination: {host: productpage}\n`),
    request: { gateway: 'default/bookinfo-gateway', url: 'http://shop.example.com:8080/details/1' },
    expect: { status: 200, route: 'default/root 1', backends: ['details=100'] },
  },
  {
    name: 'two VirtualServices on one gateway host are merged, oldest first',
    doc: 'https://istio.io/latest/docs/ops/best-practices/traffic-management/#split-virtual-services',
    files: [...BOOKINFO, net('bookinfo-gateway.yaml')],
    yaml:
      vs('shop-a', `  hosts: [shop.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - match:\n    - uri: {prefix: /reviews}\n    route:\n    - destination: {host: reviews}\n`, 'default', ', creationTimestamp: "2026-01-01T00:00:00Z"') +
      vs('shop-b', `  hosts: [shop.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - match:\n    - uri: {prefix: /ratings}\n    route:\n    - destination: {host: ratings}\n`, 'default', ', creationTimestamp: "2026-02-01T00:00:00Z"'),
    request: { gateway: 'default/bookinfo-gateway', url: 'http://shop.example.com:8080/ratings/1' },
    expect: { status: 200, route: 'default/shop-b 0', backends: ['ratings=100'] },
  },
  {
    name: 'two mesh VirtualServices for one host: IST0109, reported as ambiguous',
    doc: 'https://istio.io/latest/docs/reference/config/analysis/ist0109/',
    files: BOOKINFO,
    yaml: vs('reviews-a', `  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n`, 'default', ', creationTimestamp: "2026-01-01T00:00:00Z"') + vs('reviews-b', `  hosts: [reviews.default.svc.cluster.local]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n`, 'default', ', creationTimestamp: "2026-02-01T00:00:00Z"'),
    request: { from: 'default', url: 'http://reviews:9080/' },
    expect: { status: 200, ambiguous: /IST0109: VirtualService default\/reviews-a and VirtualService default\/reviews-b/ },
  },
  {
    name: 'exportTo ".": not visible from another namespace',
    doc: `${REF}/#VirtualService (exportTo: "." the current namespace)`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews.default.svc.cluster.local]\n  exportTo: ["."]\n  http:\n  - route:\n    - destination: {host: reviews.default.svc.cluster.local, subset: v3}\n`),
    request: { from: 'shop', url: 'http://reviews.default:9080/' },
    expect: { status: 200, route: null, backends: ['reviews=100'] },
  },
  {
    name: 'directResponse',
    doc: `${REF}/#HTTPDirectResponse`,
    files: BOOKINFO,
    yaml: vs('details', `  hosts: [details]\n  http:\n  - match:\n    - uri: {prefix: /closed}\n    directResponse: {status: 503, body: {string: "down for maintenance"}}\n  - route:\n    - destination: {host: details}\n`),
    request: { from: 'default', url: 'http://details:9080/closed' },
    expect: { status: 503, route: 'default/details 0' },
  },
  {
    name: 'request headers: set and remove',
    doc: `${REF}/#Headers`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - headers:\n      request:\n        set: {x-team: books}\n        remove: [x-debug]\n    route:\n    - destination: {host: reviews, subset: v1}\n`),
    request: { from: 'default', url: 'http://reviews:9080/', headers: ['x-debug: 1', 'x-team: other'] },
    expect: { status: 200, headers: { 'x-team': 'books' } },
  },
  {
    name: 'mirroring: v1 serves, v2 gets a copy',
    doc: `${TR}/mirroring/#mirroring-traffic-to-v2`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 100\n    mirror: {host: reviews, subset: v2}\n    mirrorPercentage: {value: 100.0}\n`),
    request: { from: 'default', url: 'http://reviews:9080/' },
    expect: { status: 200, backends: ['reviews:v1=100'], mirrors: ['reviews:v2'] },
  },
  {
    name: 'match on queryParams',
    doc: `${REF}/#HTTPMatchRequest (queryParams)`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - queryParams: {canary: {exact: "yes"}}\n    route:\n    - destination: {host: reviews, subset: v3}\n  - route:\n    - destination: {host: reviews, subset: v1}\n`),
    request: { from: 'default', url: 'http://reviews:9080/reviews/1?canary=yes' },
    expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v3=100'] },
  },
  {
    name: 'match on sourceNamespace',
    doc: `${REF}/#HTTPMatchRequest (sourceNamespace)`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews.default.svc.cluster.local]\n  http:\n  - match:\n    - sourceNamespace: canary\n    route:\n    - destination: {host: reviews.default.svc.cluster.local, subset: v2}\n  - route:\n    - destination: {host: reviews.default.svc.cluster.local, subset: v1}\n`),
    request: { from: 'canary', url: 'http://reviews.default:9080/' },
    expect: { status: 200, route: 'default/reviews 0', backends: ['reviews:v2=100'] },
  },
  {
    name: 'match on port',
    doc: `${REF}/#HTTPMatchRequest (port)`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - port: 9081\n    route:\n    - destination: {host: reviews, subset: v2}\n  - route:\n    - destination: {host: reviews, subset: v1}\n`),
    request: { from: 'default', url: 'http://reviews:9080/' },
    expect: { status: 200, route: 'default/reviews 1', backends: ['reviews:v1=100'] },
  },
  {
    name: 'a subset in no DestinationRule: 503 (no cluster)',
    doc: `${REF}/#Destination (subset: "The name of a subset within the service ... defined in a corresponding DestinationRule")`,
    files: [join(B, 'platform/kube/bookinfo.yaml')],
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n`),
    request: { from: 'default', url: 'http://reviews:9080/' },
    expect: { status: 503, route: 'default/reviews 0' },
  },
  {
    name: 'request timeout and retries are reported, not timed',
    doc: `${TR}/request-timeouts/ and ${REF}/#HTTPRetry`,
    files: BOOKINFO,
    yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v2}\n    timeout: 0.5s\n    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}\n`),
    request: { from: 'default', url: 'http://reviews:9080/' },
    expect: { status: 200, backends: ['reviews:v2=100'], policies: { timeout: '0.5s', retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' } } },
  },
  {
    name: 'fault delay is reported with the route',
    doc: `${TR}/fault-injection/#injecting-an-http-delay-fault`,
    files: [...BOOKINFO, net('virtual-service-ratings-test-delay.yaml')],
    request: { from: 'default', url: 'http://ratings:9080/', headers: ['end-user: jason'] },
    expect: { status: 200, policies: { delay: '7s' } },
  },
  {
    name: 'redirect to https on the default port',
    doc: `${REF}/#HTTPRedirect (scheme, derivePort)`,
    files: [...BOOKINFO, net('bookinfo-gateway.yaml')],
    yaml: vs('tls-redirect', `  hosts: [secure.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - redirect: {scheme: https, derivePort: FROM_PROTOCOL_DEFAULT, redirectCode: 308}\n`),
    request: { gateway: 'default/bookinfo-gateway', url: 'http://secure.example.com:8080/cart' },
    expect: { status: 308, redirect: '308 https://secure.example.com/cart' },
  },
]

function backendText(b: TraceResult['backends'][number]): string {
  return `${b.name}${b.subset ? `:${b.subset}` : ''}=${b.weight}`
}

t.test(`Istio trace table: ${rows.length} requests, each after an istio.io section`, async (t) => {
  t.ok(rows.length >= 30, 'at least 30 cases')
  for (const row of rows) {
    const view = new ClusterView()
    for (const o of loadObjects(row.files, 'default').objects) view.upsert(o.object)
    if (row.yaml) {
      const extra = parseObjects(row.yaml, 'inline.yaml')
      t.same(extra.problems, [], `${row.name}: inline YAML parses`)
      for (const o of extra.objects) view.upsert({ ...o.object, metadata: { namespace: 'default', ...o.object.metadata } })
    }
    const r = trace(view, row.request)
    const e = row.expect
    const got: Record<string, unknown> = { status: r.status }
    const want: Record<string, unknown> = { status: e.status }
    if (e.route !== undefined) {
      got.route = r.route ? `${r.route.namespace}/${r.route.name} ${r.route.rule}` : null
      want.route = e.route
    }
    if (e.backends) {
      got.backends = r.backends.map(backendText)
      want.backends = e.backends
    }
    if (e.workloads) {
      got.workloads = (r.backends[0]?.workloads ?? []).map((w) => w.name).sort()
      want.workloads = e.workloads
    }
    if (e.path !== undefined) {
      got.path = r.backendRequest?.path
      want.path = e.path
    }
    if (e.host !== undefined) {
      got.host = r.backendRequest?.host
      want.host = e.host
    }
    if (e.headers) {
      got.headers = Object.fromEntries(Object.keys(e.headers).map((k) => [k, r.backendRequest?.headers[k]]))
      want.headers = e.headers
      if (row.name.includes('remove')) t.notOk(Object.keys(r.backendRequest?.headers ?? {}).some((k) => k.toLowerCase() === 'x-debug'), `${row.name}: x-debug removed`)
    }
    if (e.redirect) {
      got.redirect = r.redirect ? `${r.redirect.statusCode} ${r.redirect.scheme}://${r.redirect.host}${r.redirect.port ? `:${r.redirect.port}` : ''}${r.redirect.path}` : null
      want.redirect = e.redirect
    }
    if (e.mirrors) {
      got.mirrors = (r.mirrors ?? []).map((m) => `${m.name}${m.subset ? `:${m.subset}` : ''}`)
      want.mirrors = e.mirrors
    }
    if (e.policies) {
      got.policies = r.policies
      want.policies = e.policies
    }
    t.same(got, want, `${row.name} (${row.doc})`)
    if (e.ambiguous) t.match(r.ambiguous, e.ambiguous, `${row.name}: names both`)
  }
})
