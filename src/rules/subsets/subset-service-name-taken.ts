/**
 * RG0402 SubsetServiceNameTaken: a DestinationRule annotated `routeguard.io/subset-services:
 * "true"` wants `<svc>-<subset>` for each subset, but a Service of that name exists and carries no
 * routeguard management labels. routeguard never touches it; this says why no Service was
 * generated. Reads: the base Service, its DestinationRules, the would-be Services.
 */
import { arr, KIND, nsOf, rec, str } from '../../model/object.js'
import { isManaged, optedIn } from '../../subsets/subsets.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0402 = defineRule({
  code: 'RG0402',
  subjects: [KIND.DestinationRule],
  inputs: [KIND.Service],
  check(subject, { view }) {
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
