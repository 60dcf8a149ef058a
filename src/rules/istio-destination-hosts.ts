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
import { arr, type K8sObject, KIND, num, rec, sameObject, str } from '../model/object.js'
import { toFQDN } from '../model/hosts.js'
import { exportScopes, PUBLIC_SCOPE, virtualService } from '../model/istio.js'
import type { ServiceHostPosting, View } from '../view/view.js'
import { describeAll, finding } from './messages.js'
import { analyzerRules, type Finding } from './types.js'

/** Istio's destination lookup: the visible Service/ServiceEntry for `host`, or undefined. */
export function resolveDestination(view: View, host: string, scopes: string[]): ServiceHostPosting | undefined {
  let wildcard: ServiceHostPosting | undefined
  let scoped: ServiceHostPosting | undefined
  for (const p of view.serviceHostsMatching(host)) {
    const visible = p.scope === PUBLIC_SCOPE || scopes.includes(p.scope)
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

function analyze(subject: K8sObject, view: View): Finding[] {
  const vs = virtualService(subject)
  const spec = rec(subject.spec)
  const scopes = exportScopes(arr(spec.exportTo).filter((x): x is string => typeof x === 'string'), vs.namespace)
  const lookupScopes = scopes.includes(PUBLIC_SCOPE) ? [vs.namespace] : scopes
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
      out.push(finding('IST0112', subject, { path, host: host!, ports: found.ports.join(',') }, { path }))
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
    arr(spec.http).forEach((rule, i) => {
      arr(rec(rule).route).forEach((r, j) => {
        const d = rec(rec(r).destination)
        const host = str(d.host)
        if (!host || str(d.subset)) return
        const others = new Set<K8sObject>()
        for (const p of view.meshHostsExact(toFQDN(host, vs.namespace))) {
          const other = virtualService(p.obj)
          if (sameObject(p.obj, subject) || !other.hosts.includes(host)) continue
          const bySubset = other.http.some((h) => arr(h.route).some((x) => str(rec(rec(x).destination).host) === host && str(rec(rec(x).destination).subset)))
          if (bySubset) others.add(p.obj)
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
