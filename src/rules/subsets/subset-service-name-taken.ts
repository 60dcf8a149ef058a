/**
 * RG0402 SubsetServiceNameTaken: a DestinationRule annotated `routeguard.io/subset-services:
 * "true"` wants `<svc>-<subset>` for each subset, or an HTTPRoute/GRPCRoute names
 * `<svc>-<subset>` as a backend while DestinationRule `<svc>` has that subset, but a Service of
 * that name exists and carries no routeguard management labels. routeguard never touches it, so
 * the route's traffic goes to whatever that hand-made Service selects; this says so, naming both.
 * Reads: the base Service, its DestinationRules, the would-be Services.
 */
import { arr, KIND, kindKeyOf, type K8sObject, nameOf, nsOf, rec, str } from '../../model/object.js'
import { isRouteKind } from '../../model/gatewayapi.js'
import { isManaged, optedIn, resolveSubsetBackend } from '../../subsets/subsets.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0402 = defineRule({
  code: 'RG0402',
  subjects: [KIND.DestinationRule, KIND.HTTPRoute, KIND.GRPCRoute],
  inputs: [KIND.Service, KIND.DestinationRule],
  check(subject, { view }) {
    if (isRouteKind(kindKeyOf(subject))) return onRoute(subject, view)
    if (!optedIn(subject)) return []
    const host = str(rec(subject.spec).host) ?? ''
    const base = host.includes('.') ? host.split('.')[0]! : host
    const ns = nsOf(subject)
    const out: Finding[] = []
    arr(rec(subject.spec).subsets).forEach((s, i) => {
      const subset = str(rec(s).name)
      if (!subset) return
      const taken = view.get(KIND.Service, ns, `${base}-${subset}`)
      if (taken && !isManaged(taken)) {
        out.push(finding('RG0402', subject, { subset, service: `${ns}/${base}-${subset}` }, { path: `spec.subsets[${i}]`, related: [taken] }))
      }
    })
    return out
  },
})

/** A route's backendRefs `<svc>-<subset>` that a hand-made Service of that name answers instead of the subset. */
function onRoute(route: K8sObject, view: Parameters<typeof resolveSubsetBackend>[0]): Finding[] {
  const ns = nsOf(route)
  const out: Finding[] = []
  const seen = new Set<string>()
  arr(rec(route.spec).rules).forEach((rule, i) => {
    arr(rec(rule).backendRefs).forEach((raw, j) => {
      const b = rec(raw)
      const name = str(b.name)
      if (!name || seen.has(name) || (str(b.group) ?? '') !== '' || (str(b.kind) ?? 'Service') !== 'Service' || (str(b.namespace) ?? ns) !== ns) return
      seen.add(name)
      const taken = view.get(KIND.Service, ns, name)
      if (!taken || isManaged(taken)) return
      const wanted = resolveSubsetBackend(view, ns, name)
      if (!wanted) return
      const dr = wanted.destinationRule
      out.push(finding('RG0402', route, { subset: `${wanted.subset} of DestinationRule ${nsOf(dr)}/${nameOf(dr)}`, service: `${ns}/${name}` }, { path: `spec.rules[${i}].backendRefs[${j}]`, related: [taken, dr] }))
    })
  })
  return out
}
