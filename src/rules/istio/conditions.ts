/**
 * IST0171 NegativeConditionStatus, after Istio's `conditions.ConditionAnalyzer`
 * (`analyzers/conditions/conditions.go`): a status condition a controller set to the negative:
 * Gateway API Gateway `status.conditions` and HTTPRoute/GRPCRoute `status.parents[].conditions`
 * of type `Accepted`, `Programmed` or `ResolvedRefs` that are False; Service, ServiceEntry and
 * WorkloadEntry `istio.io/WaypointBound` False; AuthorizationPolicy `ZtunnelAccepted` or
 * `WaypointAccepted` False, or True with reason `PartiallyInvalid`. Other conditions (another
 * controller's, such as Argo CD's) are not Istio's to judge. One finding per condition. This is the
 * status that is, not the one routeguard predicts (RG02xx). Reads: the subject only.
 */
import { arr, type K8sObject, KIND, rec, str } from '../../model/object.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'

const GATEWAY_API_TYPES = new Set(['Accepted', 'Programmed', 'ResolvedRefs'])
const WAYPOINT_BOUND = 'istio.io/WaypointBound'
const POLICY_TYPES = new Set(['ZtunnelAccepted', 'WaypointAccepted'])

function negative(kind: string | undefined, c: Record<string, unknown>): boolean {
  const type = str(c.type) ?? ''
  const status = str(c.status)
  switch (kind) {
    case 'Gateway':
    case 'HTTPRoute':
    case 'GRPCRoute':
      return GATEWAY_API_TYPES.has(type) && status === 'False'
    case 'Service':
    case 'ServiceEntry':
    case 'WorkloadEntry':
      return type === WAYPOINT_BOUND && status === 'False'
    case 'AuthorizationPolicy':
      return POLICY_TYPES.has(type) && (status === 'False' || str(c.reason) === 'PartiallyInvalid')
    default:
      return false
  }
}

function analyze(subject: K8sObject): Finding[] {
  const status = rec(subject.status)
  const out: Finding[] = []
  const check = (conditions: unknown, path: string) =>
    arr(conditions).forEach((raw, i) => {
      const c = rec(raw)
      if (negative(subject.kind, c)) out.push(finding('IST0171', subject, { type: str(c.type) ?? '', status: str(c.status) ?? '', reason: str(c.reason) ?? '' }, { path: `${path}[${i}]` }))
    })
  if (subject.kind === 'HTTPRoute' || subject.kind === 'GRPCRoute') arr(status.parents).forEach((p, i) => check(rec(p).conditions, `status.parents[${i}].conditions`))
  else check(status.conditions, 'status.conditions')
  return out
}

export const { IST0171: ist0171 } = analyzerRules(
  {
    subjects: [KIND.Service, KIND.ServiceEntry, KIND.WorkloadEntry, KIND.AuthorizationPolicy, KIND.Gateway, KIND.HTTPRoute, KIND.GRPCRoute],
    inputs: [],
    istioAnalyzer: 'conditions.ConditionAnalyzer',
  },
  ['IST0171'],
  (s) => analyze(s),
)
