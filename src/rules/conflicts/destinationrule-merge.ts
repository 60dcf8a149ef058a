/**
 * RG0105 DestinationRuleMergeDropped: pilot merges the DestinationRules of one namespace for one
 * host into one (`mergeDestinationRule`, `pilot/pkg/model/destination_rule.go`, called from
 * `PushContext.SetDestinationRules` with the rules sorted oldest first): a later rule's subsets
 * are appended only when their names are new, and its top-level `trafficPolicy` is used only when
 * no earlier rule has one. What a later rule says about a subset name or the traffic policy that
 * an earlier one already set is dropped without a word (pilot counts duplicated subsets in a
 * metric, nothing more).
 *
 * Reported on the newer rule, once per dropped part that differs from what wins (an identical
 * duplicate changes nothing), naming the DestinationRule that wins. Rules merge when neither has a
 * `workloadSelector` or both have the same one (pilot's `bothWithoutSelector` / `selectorsMatch`);
 * hosts compare after short-name expansion in the rule's namespace. Rules in other namespaces are
 * not merged (a proxy picks one by namespace: that is visibility, not a drop). Reads:
 * DestinationRules of the subject's host.
 */
import { arr, canonicalJSON, compareAge, type K8sObject, KIND, nsOf, rec, sameObject, str, stringMap } from '../../model/object.js'
import { toFQDN } from '../../model/hosts.js'
import { selectorString } from '../../model/istio.js'
import { describeAll, finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

/** `workloadSelector.matchLabels` as a comparable string; undefined when the rule has no workloadSelector. */
function selectorKey(dr: K8sObject): string | undefined {
  const ws = rec(dr.spec).workloadSelector
  return ws === undefined || ws === null ? undefined : selectorString(stringMap(rec(ws).matchLabels))
}

export const rg0105 = defineRule({
  code: 'RG0105',
  subjects: [KIND.DestinationRule],
  inputs: [KIND.DestinationRule],
  check(subject, { view, olderThanSubject }) {
    const spec = rec(subject.spec)
    const raw = str(spec.host)
    if (!raw) return []
    const ns = nsOf(subject)
    const mySelector = selectorKey(subject)
    // the older rules pilot merges this one into, oldest first (the order of SetDestinationRules)
    const older: K8sObject[] = []
    for (const dr of view.destinationRulesFor(toFQDN(raw, ns))) {
      if (sameObject(dr, subject) || nsOf(dr) !== ns || !olderThanSubject(dr) || selectorKey(dr) !== mySelector) continue
      older.push(dr)
    }
    if (older.length === 0) return []
    older.sort(compareAge)
    const out: Finding[] = []
    // the first older rule that defines each subset name, and the first with a traffic policy
    const subsetOwner = new Map<string, { dr: K8sObject; json: string }>()
    let policyOwner: { dr: K8sObject; json: string } | undefined
    for (const dr of older) {
      const s = rec(dr.spec)
      for (const sub of arr(s.subsets)) {
        const name = str(rec(sub).name)
        if (name !== undefined && !subsetOwner.has(name)) subsetOwner.set(name, { dr, json: canonicalJSON(sub) })
      }
      if (s.trafficPolicy !== undefined && s.trafficPolicy !== null) policyOwner ??= { dr, json: canonicalJSON(s.trafficPolicy) }
    }
    arr(spec.subsets).forEach((sub, i) => {
      const name = str(rec(sub).name)
      const owner = name === undefined ? undefined : subsetOwner.get(name)
      if (!owner || owner.json === canonicalJSON(sub)) return
      out.push(finding('RG0105', subject, { part: `subset ${name}`, host: raw, winner: describeAll([owner.dr]) }, { path: `spec.subsets[${i}]`, related: [owner.dr] }))
    })
    if (spec.trafficPolicy !== undefined && spec.trafficPolicy !== null && policyOwner && policyOwner.json !== canonicalJSON(spec.trafficPolicy)) {
      out.push(finding('RG0105', subject, { part: 'trafficPolicy', host: raw, winner: describeAll([policyOwner.dr]) }, { path: 'spec.trafficPolicy', related: [policyOwner.dr] }))
    }
    return out
  },
})
