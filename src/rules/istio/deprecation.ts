/**
 * IST0002 Deprecated, after Istio's `deprecation.DeprecationAnalyzer`
 * (`analyzers/deprecation/deprecation.go`, hand-written there too): a VirtualService HTTP route's
 * `fault.delay.percent` (replaced by `percentage`), a Sidecar's
 * `outboundTrafficPolicy.egressProxy` (ignored), and a CustomResourceDefinition of a removed
 * `rbac.istio.io` kind (ClusterRbacConfig, RbacConfig, ServiceRole, ServiceRoleBinding).
 * Reads: the subject only.
 */
import { arr, type K8sObject, KIND, num, rec, str } from '../../model/object.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'

const REMOVED_RBAC = new Set(['ClusterRbacConfig', 'RbacConfig', 'ServiceRole', 'ServiceRoleBinding'])

function analyze(subject: K8sObject): Finding[] {
  const spec = rec(subject.spec)
  const out: Finding[] = []
  switch (subject.kind) {
    case 'VirtualService':
      arr(spec.http).forEach((h, i) => {
        const percent = num(rec(rec(rec(h).fault).delay).percent)
        if (percent !== undefined && percent > 0) {
          out.push(finding('IST0002', subject, { what: 'HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage' }, { path: `spec.http[${i}].fault.delay.percent` }))
        }
      })
      break
    case 'Sidecar':
      if (rec(spec.outboundTrafficPolicy).egressProxy !== undefined) {
        out.push(finding('IST0002', subject, { what: 'OutboundTrafficPolicy.EgressProxy ignored' }, { path: 'spec.outboundTrafficPolicy.egressProxy' }))
      }
      break
    case 'CustomResourceDefinition': {
      const kind = str(rec(spec.names).kind) ?? ''
      if (str(spec.group) === 'rbac.istio.io' && REMOVED_RBAC.has(kind)) {
        out.push(finding('IST0002', subject, { what: `Custom resource type rbac.istio.io ${kind} is removed` }, { path: 'spec.names.kind' }))
      }
      break
    }
  }
  return out
}

export const { IST0002: ist0002 } = analyzerRules(
  { subjects: [KIND.VirtualService, KIND.Sidecar, KIND.CustomResourceDefinition], inputs: [], istioAnalyzer: 'deprecation.DeprecationAnalyzer' },
  ['IST0002'],
  (s) => analyze(s),
)
