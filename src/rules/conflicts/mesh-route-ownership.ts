/**
 * RG0102 MeshRouteOwnershipConflict: a mesh VirtualService and an HTTPRoute/GRPCRoute with a
 * Service parentRef (GAMMA) claim the same Service host for overlapping namespaces. Both become
 * `gateways: [mesh]` configs in Istio; sidecars keep the first virtual host per domain and drop
 * the other (Istio `model.SelectVirtualServices`, counted in `pilot_vservice_dup_domain`).
 *
 * Visibility: the VirtualService's exportTo scopes; a producer route (same namespace as the
 * Service) applies to every namespace, a consumer route only to its own (GEP-1294).
 * VirtualService hosts match the Service FQDN with Istio's wildcard rule.
 * Reported on both sides. Reads: the mesh-host index and the Service-route index.
 */
import { serviceFQDN } from '../../model/hosts.js'
import { type K8sObject, KIND, sameObject } from '../../model/object.js'
import { PUBLIC_SCOPE, scopesOverlap, virtualService, vsFQDNs } from '../../model/istio.js'
import { isServiceParent, type ParentRef, route } from '../../model/gatewayapi.js'
import { describeAll, finding, listText } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

/** Namespaces a GAMMA route applies to: producer → public, consumer → its own namespace. */
export function routeScopes(routeNamespace: string, parent: ParentRef): string[] {
  return parent.namespace === routeNamespace ? [PUBLIC_SCOPE] : [routeNamespace]
}

export const rg0102 = defineRule({
  code: 'RG0102',
  subjects: [KIND.VirtualService, KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [KIND.VirtualService, KIND.HTTPRoute, KIND.GRPCRoute],
  check(subject, { view }) {
    const out: Finding[] = []
    if (subject.kind === 'VirtualService') {
      const vs = virtualService(subject)
      if (!vs.mesh) return []
      // the subject's scopes as a set: one lookup per posting, not a scan of a long exportTo
      const minePublic = vs.scopes.includes(PUBLIC_SCOPE)
      let mine: Set<string> | undefined // built on the first route that needs it
      const overlaps = (theirs: string[]) => minePublic || theirs.some((s) => s === PUBLIC_SCOPE || (mine ??= new Set(vs.scopes)).has(s))
      for (const host of vsFQDNs(vs)) {
        const others = new Set<K8sObject>()
        for (const p of view.serviceRoutesMatching(host)) {
          if (sameObject(p.obj, subject)) continue
          if (overlaps(routeScopes(route(p.obj).namespace, p.parent))) others.add(p.obj)
        }
        if (others.size) out.push(report(subject, host, vs.scopes, [...others], 'spec.hosts'))
      }
      return out
    }
    const r = route(subject)
    for (const parent of r.parentRefs) {
      if (!isServiceParent(parent)) continue
      // per parentRef (its scopes differ by parent namespace), once per other VirtualService
      const overlapByObject = new Map<K8sObject, boolean>()
      const host = serviceFQDN(parent.name, parent.namespace)
      const scopes = routeScopes(r.namespace, parent)
      const others = new Set<K8sObject>()
      for (const p of view.meshHostsMatching(host)) {
        if (sameObject(p.obj, subject) || others.has(p.obj)) continue
        let hit = overlapByObject.get(p.obj)
        if (hit === undefined) overlapByObject.set(p.obj, (hit = scopesOverlap(scopes, p.scopes)))
        if (hit) others.add(p.obj)
      }
      if (others.size) out.push(report(subject, host, scopes, [...others], `spec.parentRefs[${parent.index}]`))
    }
    return out
  },
})

function report(subject: K8sObject, host: string, scopes: string[], others: K8sObject[], path: string): Finding {
  const scope = scopes.includes(PUBLIC_SCOPE) ? 'all namespaces' : `namespaces ${listText(scopes)}`
  return finding('RG0102', subject, { others: describeAll(others), host, scope }, { path, related: others })
}
