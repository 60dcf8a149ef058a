/**
 * RG0405 SubsetWithoutLabels (Kiali KIA0209 `destinationrules.nodest.subsetnolabels`), info level:
 * a DestinationRule subset without labels selects every endpoint of the host (Istio merges subset
 * labels with the ServiceEntry workloadSelector, and no labels select all), so routing to it is
 * routing to the host. Reads nothing but the subject.
 */
import { arr, KIND, rec, str, stringMap } from '../../model/object.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0405 = defineRule({
  code: 'RG0405',
  subjects: [KIND.DestinationRule],
  inputs: [],
  check(subject) {
    const out: Finding[] = []
    arr(rec(subject.spec).subsets).forEach((s, i) => {
      if (Object.keys(stringMap(rec(s).labels)).length) return
      out.push(finding('RG0405', subject, { subset: str(rec(s).name) ?? `#${i}`, host: str(rec(subject.spec).host) ?? '' }, { path: `spec.subsets[${i}]` }))
    })
    return out
  },
})
