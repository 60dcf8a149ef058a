/**
 * A synthetic but realistic cluster for benchmarks: half VirtualServices, half HTTPRoutes.
 * Most hosts are unique; a few hot hosts carry 20+ routes (the buckets a check must read).
 * - VirtualServices: 70 % mesh (short host in their namespace, some exportTo "."), 30 % bound to
 *   one of 4 shared Istio Gateways with an `appN.example.com` host and 3 matches each.
 * - HTTPRoutes: 85 % on one of 3 shared Gateways (unique hostnames, 3 path matches each),
 *   15 % GAMMA routes on a Service.
 * - Hot spots: 5 hot mesh hosts with 25 VirtualServices each (exportTo ".", separate
 *   namespaces), and 5 hot hostnames with 25 HTTPRoutes each (distinct paths).
 */
import type { K8sObject } from '../src/model/object.js'

export const NAMESPACES = 200
const HOT = 5
const PER_HOT = 25

function vs(ns: string, name: string, spec: Record<string, unknown>): K8sObject {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' }, spec }
}

function httpRoute(ns: string, name: string, spec: Record<string, unknown>): K8sObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' }, spec }
}

const route = (host: string) => [{ destination: { host, port: { number: 8080 } }, weight: 100 }]

export function gateways(): K8sObject[] {
  const out: K8sObject[] = []
  for (let g = 0; g < 3; g++) {
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: 'infra' },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    })
  }
  for (let g = 0; g < 4; g++) {
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: `ingress-${g}`, namespace: 'istio-system' },
      spec: { selector: { istio: `ingress-${g}` }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    })
  }
  return out
}

/** `n` routing objects (plus the shared gateways). Deterministic. */
export function world(n: number): K8sObject[] {
  const out = gateways()
  const nVs = Math.floor(n / 2)
  const nHr = n - nVs
  let i = 0
  for (let h = 0; h < HOT; h++) {
    for (let k = 0; k < PER_HOT && i < nVs; k++, i++) {
      out.push(vs(`ns-${k}`, `hot-${h}-${k}`, { hosts: [`hot-${h}.shared.svc.cluster.local`], exportTo: ['.'], http: [{ route: route(`hot-${h}`) }] }))
    }
  }
  for (; i < nVs; i++) {
    const ns = `ns-${i % NAMESPACES}`
    if (i % 10 < 7) {
      out.push(vs(ns, `vs-${i}`, { hosts: [`svc-${i}`], ...(i % 4 === 0 ? { exportTo: ['.'] } : {}), http: [{ match: [{ uri: { prefix: '/v2' } }], route: route(`svc-${i}-v2`) }, { route: route(`svc-${i}`) }] }))
    } else {
      out.push(
        vs(ns, `vs-${i}`, {
          hosts: [`app${i}.example.com`],
          gateways: [`istio-system/ingress-${i % 4}`],
          http: [
            { match: [{ uri: { prefix: '/api' } }, { uri: { exact: '/login' } }], route: route(`api-${i}`) },
            { match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: route(`canary-${i}`) },
            { route: route(`web-${i}`) },
          ],
        }),
      )
    }
  }
  let j = 0
  for (let h = 0; h < HOT; h++) {
    for (let k = 0; k < PER_HOT && j < nHr; k++, j++) {
      out.push(httpRoute(`ns-${k}`, `hot-route-${h}-${k}`, { parentRefs: [{ name: `gw-${h % 3}`, namespace: 'infra' }], hostnames: [`hot${h}.example.com`], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/team-${k}` } }], backendRefs: [{ name: `svc-${k}`, port: 8080 }] }] }))
    }
  }
  for (; j < nHr; j++) {
    const ns = `ns-${j % NAMESPACES}`
    if (j % 20 < 17) {
      out.push(
        httpRoute(ns, `route-${j}`, {
          parentRefs: [{ name: `gw-${j % 3}`, namespace: 'infra', sectionName: j % 2 ? 'http' : 'https' }],
          hostnames: [`r${j}.example.com`],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: `api-${j}`, port: 8080 }] },
            { matches: [{ path: { type: 'Exact', value: '/healthz' } }, { headers: [{ name: 'x-debug', value: '1' }] }], backendRefs: [{ name: `dbg-${j}`, port: 8080 }] },
            { backendRefs: [{ name: `web-${j}`, port: 8080, weight: 90 }, { name: `web-${j}-canary`, port: 8080, weight: 10 }] },
          ],
        }),
      )
    } else {
      out.push(httpRoute(ns, `mesh-${j}`, { parentRefs: [{ group: '', kind: 'Service', name: `backend-${j}`, port: 8080 }], rules: [{ matches: [{ path: { value: '/v2' } }], backendRefs: [{ name: `backend-${j}-v2`, port: 8080 }] }, { backendRefs: [{ name: `backend-${j}`, port: 8080 }] }] }))
    }
  }
  return out
}

/** Objects under admission review: new objects landing on unique and on hot buckets. */
export function subjects(): { name: string; object: K8sObject }[] {
  return [
    { name: 'vs-unique-host', object: vs('ns-7', 'new-vs', { hosts: ['brand-new'], http: [{ route: route('brand-new') }] }) },
    { name: 'vs-hot-host', object: vs('shared', 'new-hot-vs', { hosts: ['hot-1'], http: [{ route: route('hot-1') }] }) },
    { name: 'vs-gateway', object: vs('ns-3', 'new-gw-vs', { hosts: ['new.example.com'], gateways: ['istio-system/ingress-1'], http: [{ match: [{ uri: { prefix: '/api' } }], route: route('a') }, { route: route('b') }] }) },
    { name: 'httproute-unique', object: httpRoute('ns-9', 'new-route', { parentRefs: [{ name: 'gw-1', namespace: 'infra' }], hostnames: ['brand-new.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'x', port: 80 }] }] }) },
    { name: 'httproute-hot', object: httpRoute('ns-9', 'new-hot-route', { parentRefs: [{ name: 'gw-1', namespace: 'infra' }], hostnames: ['hot1.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/brand-new' } }], backendRefs: [{ name: 'x', port: 80 }] }] }) },
  ]
}
