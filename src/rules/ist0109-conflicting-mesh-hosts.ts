/**
 * IST0109 ConflictingMeshGatewayVirtualServiceHosts, with the semantics of Istio's
 * `virtualservice.ConflictingMeshGatewayHostsAnalyzer`:
 * - only mesh VirtualServices (no `gateways`, or the literal `mesh` among them);
 * - each host is FQDN-expanded in the VirtualService's namespace and keyed by exportTo scope
 *   (`*` for public, else each namespace, `.` → own namespace);
 * - two VirtualServices conflict on an identical (scope, host) key, and a namespace-scoped host
 *   also conflicts with every public host that wildcard-matches it (in both directions of who
 *   is the subject); two public hosts conflict only when identical;
 * - one finding per VirtualService, naming every other VirtualService and the first host.
 * Reads: the mesh-host index only (hosts of the subject, and wildcards above them).
 */
import { type K8sObject, KIND, idOf, sameObject } from '../model/object.js'
import { PUBLIC_SCOPE, virtualService, vsFQDNs } from '../model/istio.js'
import { describeAll, finding } from './messages.js'
import { defineRule } from './types.js'

export const ist0109 = defineRule({
  code: 'IST0109',
  subjects: [KIND.VirtualService],
  inputs: [KIND.VirtualService],
  istioAnalyzer: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  check(subject, { view }) {
    const vs = virtualService(subject)
    if (!vs.mesh) return []
    const others = new Set<K8sObject>()
    let first: { host: string; scope: string } | undefined
    for (const scope of vs.scopes) {
      for (const host of vsFQDNs(vs)) {
        const before = others.size
        for (const p of view.meshHostsExact(host)) {
          if (p.scope === scope && !sameObject(p.obj, subject)) others.add(p.obj)
        }
        for (const p of view.meshHostsMatching(host)) {
          if (sameObject(p.obj, subject)) continue
          // a scoped key collects the public hosts that match it, whichever side is the subject
          const crosses = scope === PUBLIC_SCOPE ? p.scope !== PUBLIC_SCOPE : p.scope === PUBLIC_SCOPE
          if (crosses) others.add(p.obj)
        }
        if (!first && others.size > before) first = { host, scope }
      }
    }
    if (!first) return []
    const sorted = [...others].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1))
    return [
      finding(
        'IST0109',
        subject,
        { others: describeAll(sorted), host: first.host, scope: first.scope },
        { path: 'spec.hosts', related: sorted },
      ),
    ]
  },
})
