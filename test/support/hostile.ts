/**
 * Hostile object shapes for the hardening tests and `npm run bench` (section `hostile`): each
 * is valid for its CRD (or at least of the shape the API server stores) and about `bytes` of
 * JSON, built to make a naive rule quadratic or a naive response huge. Design point: 3 MiB (twice
 * etcd's default 1.5 MiB request limit).
 */

export const DESIGN_POINT_BYTES = 3 * 1024 * 1024

export interface HostileShape {
  name: string
  /** what it attacks */
  why: string
  /** the object under review */
  object: Record<string, unknown>
  /** the verdict a correct webhook gives in an empty view (default policy) */
  allowed: boolean
}

const vs = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'default' },
  spec: { hosts: ['reviews'], ...spec },
})

const httpRoute = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'default' },
  spec: { parentRefs: [{ name: 'gw' }], ...spec },
})

/** How many copies of `item` fit in `bytes` of JSON. */
function fit(bytes: number, item: (i: number) => unknown): number {
  const sample = JSON.stringify(item(99_999)).length + 1
  return Math.max(1, Math.floor(bytes / sample))
}

/** Every shape at about `bytes` of JSON. */
export function hostileShapes(bytes = DESIGN_POINT_BYTES): HostileShape[] {
  return hostileShapeNames().map((name) => hostileShape(name, bytes))
}

/** The names of the shapes, in order. */
export function hostileShapeNames(): string[] {
  return shapeSpecs(0).map((s) => s.name)
}

/** One shape, built alone (the bench keeps one 3 MiB object alive at a time, not twelve). */
export function hostileShape(name: string, bytes = DESIGN_POINT_BYTES): HostileShape {
  const built = shapeList(bytes, name)
  if (!built.length) throw new Error(`no hostile shape ${name}`)
  return built[0]!
}

/** The shapes; with `only`, just that one is built (the others' objects are not made). */
function shapeList(bytes: number, only?: string): HostileShape[] {
  const all = shapeSpecs(bytes)
  return all.filter((s) => only === undefined || s.name === only).map((s) => ({ name: s.name, why: s.why, allowed: s.allowed, object: s.object() }))
}

interface ShapeSpec {
  name: string
  why: string
  object: () => Record<string, unknown>
  allowed: boolean
}

function shapeSpecs(bytes: number): ShapeSpec[] {
  const noMatch = () => ({ route: [{ destination: { host: 'reviews' } }] })
  const nested = (i: number) => ({ match: [{ uri: { prefix: `/${'a'.repeat(i % 200)}` } }], route: [{ destination: { host: 'reviews' } }] })
  const backend = (i: number) => ({ name: `svc${i}`, port: 80 })
  // every match a path, a method and 16 headers and query parameters of its own
  const impactRule = (i: number) => ({
    matches: [{ path: { type: i % 2 ? 'Exact' : 'PathPrefix', value: `/c${i}` }, method: 'POST', headers: Array.from({ length: 16 }, (_, h) => ({ name: `x-h${h}`, value: `v${i}` })), queryParams: Array.from({ length: 16 }, (_, q) => ({ name: `q${q}`, value: `v${i}` })) }],
    backendRefs: [{ name: 'reviews', port: 9080 }],
  })
  const ruleWithMatch = (i: number) => ({ matches: [{ path: { type: 'PathPrefix', value: `/p${i}` } }], backendRefs: [{ name: 'svc', port: 80 }] })
  const server = (i: number) => ({ port: { number: 80, name: `http-${i}`, protocol: 'HTTP' }, hosts: [`h${i}.example.com`] })
  const listener = (i: number) => ({ name: `l${i}`, port: 80, protocol: 'HTTP', hostname: `h${i}.example.com` })
  const subset = (i: number) => ({ name: `v${i}`, labels: { version: `v${i}` } })
  const host = (i: number) => `h${i}.example.com`
  return [
    {
      name: 'vs-rules-without-match',
      why: 'one IST0130 per rule: duplicate-warning removal and finding counts',
      object: () => vs('no-match', { http: Array.from({ length: fit(bytes, noMatch) }, noMatch) }),
      allowed: true,
    },
    {
      name: 'vs-nested-prefixes',
      why: 'IST0131 prefix coverage compares rules pairwise in Istio',
      object: () => vs('nested', { http: Array.from({ length: fit(bytes, nested) }, (_, i) => nested(i)) }),
      allowed: true,
    },
    {
      name: 'vs-many-hosts',
      why: 'host index lookups per host',
      object: () => vs('hosts', { hosts: Array.from({ length: fit(bytes, host) }, (_, i) => host(i)), http: [noMatch()] }),
      allowed: true,
    },
    {
      name: 'vs-huge-host',
      why: 'one host of the whole size: messages, warnings and logs name it',
      object: () => vs('huge-host', { hosts: [`${'h'.repeat(bytes - 200)}.example.com`], http: [noMatch()] }),
      allowed: true,
    },
    {
      name: 'httproute-backendrefs',
      why: 'one BackendNotFound (RG0205) per backendRef',
      object: () => httpRoute('backends', { rules: [{ backendRefs: Array.from({ length: fit(bytes, backend) }, (_, i) => backend(i)) }] }),
      allowed: true,
    },
    {
      name: 'httproute-rules',
      why: 'one rule per path: match index and status per rule',
      object: () => httpRoute('rules', { rules: Array.from({ length: fit(bytes, ruleWithMatch) }, (_, i) => ruleWithMatch(i)) }),
      allowed: true,
    },
    {
      name: 'istio-gateway-servers',
      why: 'IST0145 compares servers of Gateways on the same workloads',
      object: () => ({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'servers', namespace: 'default' },
        spec: { selector: { istio: 'ingressgateway' }, servers: Array.from({ length: fit(bytes, server) }, (_, i) => server(i)) },
      }),
      allowed: true,
    },
    {
      name: 'gateway-listeners',
      why: 'listener attachment and feature checks per listener',
      object: () => ({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'listeners', namespace: 'default' },
        spec: { gatewayClassName: 'istio', listeners: Array.from({ length: fit(bytes, listener) }, (_, i) => listener(i)) },
      }),
      allowed: true,
    },
    {
      name: 'destinationrule-subsets',
      why: 'subset lookups and generated-Service names per subset',
      object: () => ({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'subsets', namespace: 'default' },
        spec: { host: 'reviews', subsets: Array.from({ length: fit(bytes, subset) }, (_, i) => subset(i)) },
      }),
      allowed: true,
    },
    {
      name: 'vs-exportto-x-hosts',
      why: 'Istio keys mesh hosts by (exportTo scope, host): the product of the two lists',
      object: () => vs('scopes', {
        hosts: Array.from({ length: fit(bytes / 2, host) }, (_, i) => host(i)),
        exportTo: Array.from({ length: fit(bytes / 2, (i: number) => `ns-${i}`) }, (_, i) => `ns-${i}`),
        http: [noMatch()],
      }),
      allowed: true,
    },
    {
      name: 'vs-gateways-x-hosts-x-rules',
      why: 'RG0101 keys gateway routes by (gateway, host, match): the product of three lists',
      object: () => vs('fanout', {
        gateways: Array.from({ length: fit(bytes / 3, (i: number) => `ns/gw-${i}`) }, (_, i) => `ns/gw-${i}`),
        hosts: Array.from({ length: fit(bytes / 3, host) }, (_, i) => host(i)),
        http: Array.from({ length: fit(bytes / 3, nested) }, (_, i) => ({ ...nested(i), match: [{ uri: { prefix: `/r${i}` } }] })),
      }),
      allowed: true,
    },
    {
      name: 'httproute-impact-classes',
      why: 'change impact (the traffic warning): paths × header/query/method values of every match make the request classes traced before and after',
      object: () => ({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'classes', namespace: 'default' },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], rules: Array.from({ length: fit(bytes, impactRule) }, (_, i) => impactRule(i)) },
      }),
      allowed: true,
    },
    {
      name: 'huge-name',
      why: 'a name of the whole size: messages, logs and index keys',
      object: () => ({ ...vs('x', { http: [noMatch()] }), metadata: { name: 'n'.repeat(bytes - 300), namespace: 'default' } }),
      allowed: true,
    },
  ]
}

/**
 * The largest HTTPRoute the Gateway API v1 CRD admits (32 parentRefs, 16 hostnames, 16 rules of
 * 8 matches = the 128 the CEL rule allows, 16 headers and 16 query parameters each, 16
 * backendRefs), on 32 Gateways of 64 listeners each (the CRD's maxima), every listener taking
 * routes from every namespace.
 */
export function crdMaxWorld() {
  const gateways = Array.from({ length: 32 }, (_, g) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: `gw-${g}`, namespace: 'infra' },
    spec: { gatewayClassName: 'istio', listeners: Array.from({ length: 64 }, (_, l) => ({ name: `l-${l}`, port: 8000 + l, protocol: 'HTTP', hostname: `*.example${l % 16}.com`, allowedRoutes: { namespaces: { from: 'All' } } })) },
  }))
  const match = (r: number, m: number) => ({
    path: { type: 'PathPrefix', value: `/r${r}/m${m}` },
    headers: Array.from({ length: 16 }, (_, h) => ({ name: `x-h${h}`, value: `v${h}` })),
    queryParams: Array.from({ length: 16 }, (_, q) => ({ name: `q${q}`, value: `v${q}` })),
    method: 'GET',
  })
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'crd-max', namespace: 'tenant' },
    spec: {
      parentRefs: gateways.map((g) => ({ name: g.metadata.name, namespace: 'infra' })),
      hostnames: Array.from({ length: 16 }, (_, h) => `app.example${h}.com`),
      rules: Array.from({ length: 16 }, (_, r) => ({ matches: Array.from({ length: 8 }, (_, m) => match(r, m)), backendRefs: Array.from({ length: 16 }, (_, b) => ({ name: `svc-${b}`, port: 80 })) })),
    },
  }
  return { gateways, route }
}
