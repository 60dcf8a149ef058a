/**
 * IST0149 JwtClaimBasedRoutingWithoutRequestAuthN, after Istio's
 * `virtualservice.JWTClaimRouteAnalyzer` (`analyzers/virtualservice/jwtclaimroute.go`): a
 * VirtualService that matches on a JWT claim (`@request.auth.claims.*` in `headers` or
 * `withoutHeaders`) routes on something only a RequestAuthentication can provide; for every
 * gateway it binds to (other than `mesh`), each workload the gateway selects needs a
 * RequestAuthentication in `istio-system` or its own namespace whose selector selects it. One
 * finding per (gateway, workload) without one. Gateway names resolve as pilot resolves them.
 * Skipped where the view does not hold RequestAuthentications or workloads.
 */
import { arr, type K8sObject, KIND, rec, stringMap } from '../../model/object.js'
import { gatewayRef, istioGateway, MESH_GATEWAY, selects, virtualService } from '../../model/istio.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'
import type { View } from '../../view/view.js'

const CLAIM_PREFIX = '@request.auth.claims.'
const ROOT_NAMESPACE = 'istio-system'

/** The first JWT claim header key the VirtualService matches on, or undefined (`routeBasedOnJWTClaimKey`). */
function claimKey(subject: K8sObject): string | undefined {
  for (const rule of virtualService(subject).http) {
    for (const m of arr(rule.match)) {
      for (const field of ['headers', 'withoutHeaders']) for (const k of Object.keys(rec(rec(m)[field]))) if (k.startsWith(CLAIM_PREFIX)) return k
    }
  }
  return undefined
}

function requestAuthnSelects(view: View, namespace: string, labels: Record<string, string>): boolean {
  for (const ns of new Set([ROOT_NAMESPACE, namespace])) {
    for (const ra of view.objectsIn(KIND.RequestAuthentication, ns)) {
      if (selects(stringMap(rec(rec(ra.spec).selector).matchLabels), labels)) return true
    }
  }
  return false
}

export const ist0149 = defineRule({
  code: 'IST0149',
  subjects: [KIND.VirtualService],
  inputs: [KIND.IstioGateway, KIND.RequestAuthentication, ...WORKLOAD_KINDS],
  istioAnalyzer: 'virtualservice.JWTClaimRouteAnalyzer',
  check(subject, { view }) {
    if (!view.covers(KIND.RequestAuthentication) || !view.covers(KIND.Pod)) return []
    const key = claimKey(subject)
    if (!key) return []
    const vs = virtualService(subject)
    const out: Finding[] = []
    for (const g of arr(rec(subject.spec).gateways)) {
      if (typeof g !== 'string' || g === MESH_GATEWAY) continue
      const ref = gatewayRef(g, vs.namespace)
      const full = `${ref.namespace}/${ref.name}`
      const gw = view.get(KIND.IstioGateway, ref.namespace, ref.name)
      if (!gw) continue // IST0101 says so
      for (const w of view.workloadsSelected(istioGateway(gw).selector)) {
        if (requestAuthnSelects(view, w.namespace, w.labels)) continue
        out.push(finding('IST0149', subject, { claim: key, gateway: full, workload: `${w.kind.split('/')[1]} ${w.namespace ? `${w.namespace}/` : ''}${w.obj.metadata?.name ?? ''}` }, { path: 'spec.gateways' }))
      }
    }
    return out
  },
})
