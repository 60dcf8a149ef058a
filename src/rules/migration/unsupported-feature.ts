/**
 * RG0301 UnsupportedFeature: the route or Gateway uses a Gateway API feature (named as in the
 * conformance suite) that the configured implementation (`--implementation NAME[@VERSION]`,
 * Istio by default) does not claim in its conformance report; and, for Istio, the translation
 * hard errors (ExtensionRef filters, non-header filters on a backendRef) that make it drop rules.
 * Reads nothing but the subject and the implementation's feature table.
 */
import { KIND } from '../../model/object.js'
import { featuresUsed, istioHardErrors } from '../../features/features.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

export const rg0301 = defineRule({
  code: 'RG0301',
  subjects: [KIND.HTTPRoute, KIND.GRPCRoute, KIND.TLSRoute, KIND.TCPRoute, KIND.Gateway],
  inputs: [],
  check(subject, { implementation }) {
    const impl = `${implementation.name} ${implementation.version}`
    const out: Finding[] = []
    let seen: Set<string> | undefined
    for (const u of featuresUsed(subject)) {
      if (implementation.features.has(u.feature) || seen?.has(u.feature)) continue
      seen ??= new Set()
      seen.add(u.feature)
      out.push(finding('RG0301', subject, { path: u.path, feature: u.feature, implementation: impl, detail: ' (not claimed in its conformance report)' }, { path: u.path }))
    }
    if (implementation.name === 'istio') {
      for (const e of istioHardErrors(subject)) {
        out.push(finding('RG0301', subject, { path: e.path, feature: e.feature, implementation: impl, detail: ': Istio drops the route for this parent (unsupported filter type)' }, { path: e.path }))
      }
    }
    return out
  },
})
