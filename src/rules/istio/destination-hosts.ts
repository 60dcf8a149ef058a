/**
 * After Istio's `virtualservice.DestinationHostAnalyzer` (`analyzers/virtualservice/destinationhosts.go`,
 * lookup in `analyzers/util/service_lookup.go`):
 * - a route or mirror destination host must resolve to a Service (as its FQDN, visible per its
 *   `networking.istio.io/exportTo` annotation) or a ServiceEntry host (visible per exportTo):
 *   public exact host, then the VirtualService's scopes (its exportTo namespaces, or its own
 *   namespace), then a wildcard ServiceEntry host visible there. Not found → IST0101 (`host`,
 *   `mirror host`); a destination port the target does not expose → IST0101 (`host:port`);
 *   no port while the target exposes several → IST0112;
 * - IST0140: a gateway-bound VirtualService routes to a host without a subset that a mesh
 *   VirtualService for the same host routes by subset.
 * Reads: the Service/ServiceEntry host index, mesh VirtualServices of the destination host.
 */
import { arr, type K8sObject, KIND, num, rec, sameObject, str } from '../../model/object.js'
import { toFQDN } from '../../model/hosts.js'
import { PUBLIC_SCOPE, virtualService } from '../../model/istio.js'
import type { ServiceHostPosting, View } from '../../view/view.js'
import { describeAll, finding, listText } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'

/** A set over `items`, built on the first `has` (most reviews never ask). */
export function lazySet(items: readonly string[]): Pick<ReadonlySet<string>, 'has'> {
  let set: Set<string> | undefined
  return { has: (s) => (set ??= new Set(items)).has(s) }
}

/** Istio's destination lookup: the visible Service/ServiceEntry for `host`, or undefined. */
export function resolveDestination(view: View, host: string, scopes: Pick<ReadonlySet<string>, 'has'>): ServiceHostPosting | undefined {
  let wildcard: ServiceHostPosting | undefined
  let scoped: ServiceHostPosting | undefined
  for (const p of view.serviceHostsMatching(host)) {
    const visible = p.scope === PUBLIC_SCOPE || scopes.has(p.scope)
    if (!visible) continue
    if (p.host === host) {
      if (p.scope === PUBLIC_SCOPE) return p
      scoped ??= p
    } else if (p.host.startsWith('*') && !host.startsWith('*') && host.endsWith(p.host.slice(1))) {
      wildcard ??= p
    }
  }
  return scoped ?? wildcard
}

/**
 * Of another VirtualService: its hosts as written, and the destination hosts its HTTP routes
 * name with a subset. Computed once per other object per evaluation, so IST0140 looks each up
 * instead of scanning the other's rules once per route of the subject (rules × rules).
 */
function routingOf(obj: K8sObject) {
  const vs = virtualService(obj)
  const subsetHosts = new Set<string>()
  for (const h of vs.http) {
    for (const x of arr(h.route)) {
      const d = rec(rec(x).destination)
      const host = str(d.host)
      if (host && str(d.subset)) subsetHosts.add(host)
    }
  }
  return { hosts: new Set(vs.hosts), subsetHosts }
}

function analyze(subject: K8sObject, view: View): Finding[] {
  const vs = virtualService(subject)
  const spec = rec(subject.spec)
  const scopes = vs.scopes
  const lookupScopes = lazySet(scopes.includes(PUBLIC_SCOPE) ? [vs.namespace] : scopes)
  const out: Finding[] = []
  // lookups mean nothing unless the view holds every Service and ServiceEntry (live views that don't, skip)
  const complete = view.covers(KIND.Service) && view.covers(KIND.ServiceEntry)
  const check = (dest: unknown, path: string, mirror: boolean) => {
    if (!complete) return
    const d = rec(dest)
    const host = str(d.host)
    const found = host ? resolveDestination(view, toFQDN(host, vs.namespace), lookupScopes) : undefined
    if (!found) {
      out.push(finding('IST0101', subject, { reftype: mirror ? 'mirror host' : 'host', name: host ?? '(none)' }, { path }))
      return
    }
    const port = num(rec(d.port).number)
    if (port !== undefined && found.ports.length && !found.ports.includes(port)) {
      out.push(finding('IST0101', subject, { reftype: mirror ? 'mirror host:port' : 'host:port', name: `${host}:${port}` }, { path }))
    } else if (port === undefined && found.ports.length > 1 && !mirror) {
      out.push(finding('IST0112', subject, { path, host: host!, ports: listText(found.ports.map(String)) }, { path }))
    }
  }
  for (const section of ['http', 'tcp', 'tls'] as const) {
    arr(spec[section]).forEach((rule, i) => {
      arr(rec(rule).route).forEach((r, j) => check(rec(r).destination, `spec.${section}[${i}].route[${j}].destination`, false))
      if (section === 'http') {
        if (rec(rule).mirror !== undefined) check(rec(rule).mirror, `spec.http[${i}].mirror`, true)
        arr(rec(rule).mirrors).forEach((x, j) => check(rec(x).destination, `spec.http[${i}].mirrors[${j}].destination`, true))
      }
    })
  }
  if (vs.gateways.length) {
    const routing = new Map<K8sObject, ReturnType<typeof routingOf>>()
    arr(spec.http).forEach((rule, i) => {
      arr(rec(rule).route).forEach((r, j) => {
        const d = rec(rec(r).destination)
        const host = str(d.host)
        if (!host || str(d.subset)) return
        const others = new Set<K8sObject>()
        for (const p of view.meshHostsExact(toFQDN(host, vs.namespace))) {
          if (sameObject(p.obj, subject)) continue
          let other = routing.get(p.obj)
          if (!other) routing.set(p.obj, (other = routingOf(p.obj)))
          if (other.hosts.has(host) && other.subsetHosts.has(host)) others.add(p.obj)
        }
        if (others.size) {
          const path = `spec.http[${i}].route[${j}].destination`
          out.push(finding('IST0140', subject, { path, others: describeAll(others.values()), host }, { path, related: [...others] }))
        }
      })
    })
  }
  return out
}

export const { IST0101: ist0101Host, IST0112: ist0112, IST0140: ist0140 } = analyzerRules(
  { subjects: [KIND.VirtualService], inputs: [KIND.Service, KIND.ServiceEntry, KIND.VirtualService], istioAnalyzer: 'virtualservice.DestinationHostAnalyzer' },
  ['IST0101', 'IST0112', 'IST0140'],
  (s, { view }) => analyze(s, view),
)
