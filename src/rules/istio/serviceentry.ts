/**
 * ServiceEntry checks after Istio's analyzers:
 * - IST0134 ServiceEntryAddressesRequired (`serviceentry.Analyzer`,
 *   `analyzers/serviceentry/protocoladdresses.go`): a ServiceEntry without `addresses`, one
 *   finding per port whose protocol is unset or TCP (case-insensitive), unless the mesh config
 *   turns on DNS auto-allocation (`ISTIO_META_DNS_CAPTURE` and `ISTIO_META_DNS_AUTO_ALLOCATE`)
 *   or Istio has allocated addresses already (`status.addresses`, auto-allocation v2).
 * - IST0177 ConflictingServiceEntryProtocol (`serviceentry.ConflictingServiceEntryProtocolAnalyzer`,
 *   `conflictingserviceentries.go`): ServiceEntries visible in overlapping exportTo scopes (the
 *   same scope, or either exported to `*`) declare the same host and port number with different
 *   protocols (compared upper-case). One finding per ServiceEntry, naming the others.
 * Reads: the subject; for IST0177 the Service/ServiceEntry host index (the subject's hosts only).
 */
import { arr, idOf, type K8sObject, KIND, nsOf, num, rec, sameObject, str, strs } from '../../model/object.js'
import { exportScopes, PUBLIC_SCOPE } from '../../model/istio.js'
import { describeAll, finding } from '../messages.js'
import { analyzerRules, defineRule, type Finding } from '../types.js'

export const { IST0134: ist0134 } = analyzerRules(
  { subjects: [KIND.ServiceEntry], inputs: [], istioAnalyzer: 'serviceentry.Analyzer' },
  ['IST0134'],
  (subject, { mesh }) => {
    const spec = rec(subject.spec)
    if (spec.addresses !== undefined && spec.addresses !== null) return []
    if (mesh.dnsAutoAllocate || arr(rec(subject.status).addresses).length > 0) return []
    const out: Finding[] = []
    arr(spec.ports).forEach((p, i) => {
      const protocol = (str(rec(p).protocol) ?? '').toUpperCase()
      if (protocol === '' || protocol === 'TCP') out.push(finding('IST0134', subject, { port: String(num(rec(p).number) ?? '') }, { path: `spec.ports[${i}]` }))
    })
    return out
  },
)

/** Port number → protocols (upper-case) a ServiceEntry declares. */
function protocolsByPort(se: K8sObject): Map<number, Set<string>> {
  const m = new Map<number, Set<string>>()
  for (const p of arr(rec(se.spec).ports)) {
    const n = num(rec(p).number)
    if (n === undefined) continue
    let s = m.get(n)
    if (!s) m.set(n, (s = new Set()))
    s.add((str(rec(p).protocol) ?? '').toUpperCase())
  }
  return m
}

export const ist0177 = defineRule({
  code: 'IST0177',
  subjects: [KIND.ServiceEntry],
  inputs: [KIND.ServiceEntry],
  istioAnalyzer: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  check(subject, { view }) {
    const spec = rec(subject.spec)
    const myScopes = exportScopes(strs(spec.exportTo), nsOf(subject))
    const overlap = (scope: string) => scope === PUBLIC_SCOPE || myScopes.includes(PUBLIC_SCOPE) || myScopes.includes(scope)
    const mine = protocolsByPort(subject)
    const others = new Map<string, K8sObject>()
    let first: { host: string; port: number; protocols: Set<string> } | undefined
    // what another ServiceEntry's ports give against mine does not depend on the host: worked out
    // once per other object (hosts × ports is never multiplied)
    const conflict = new Map<K8sObject, { port: number; protocols: Set<string> } | null>()
    const conflictWith = (other: K8sObject) => {
      let c = conflict.get(other)
      if (c !== undefined) return c
      c = null
      const ports = protocolsByPort(other)
      const [small, large] = ports.size <= mine.size ? [ports, mine] : [mine, ports]
      for (const [port, protocols] of small) {
        const theirs = large.get(port)
        if (!theirs) continue
        const all = new Set([...protocols, ...theirs])
        if (all.size >= 2) {
          c = { port, protocols: all }
          break
        }
      }
      conflict.set(other, c)
      return c
    }
    for (const host of strs(spec.hosts)) {
      for (const p of view.serviceHostsMatching(host)) {
        if (p.host !== host || p.obj.kind !== 'ServiceEntry' || sameObject(p.obj, subject) || !overlap(p.scope)) continue
        const c = conflictWith(p.obj)
        if (!c) continue
        others.set(idOf(p.obj), p.obj)
        first ??= { host, ...c }
      }
    }
    if (!first) return []
    const related = [...others.values()].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1))
    return [
      finding(
        'IST0177',
        subject,
        { others: describeAll(related), host: first.host, port: String(first.port), protocols: [...first.protocols].sort().join(', ') },
        { path: 'spec.ports', related },
      ),
    ]
  },
})
