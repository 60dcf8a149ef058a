/**
 * IST0176 GatewayAPICRDVersionBelowMinimum, after Istio's `k8sgateway.CRDVersionAnalyzer` and
 * the minimum versions in `pkg/config/schema/gatewayapi/minimumversions.go`: a Gateway API CRD
 * whose `gateway.networking.k8s.io/bundle-version` annotation is below the release Istio needs for
 * it (grpcroutes v1.1, backendtlspolicies v1.4, tlsroutes v1.5, tcproutes v1.6). A CRD without
 * the annotation, or with a version that does not parse, is not judged. Reads: the subject only.
 */
import { type K8sObject, KIND, nameOf, stringMap } from '../../model/object.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'

const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version'
const MINIMUM: Record<string, [number, number]> = {
  'grpcroutes.gateway.networking.k8s.io': [1, 1],
  'backendtlspolicies.gateway.networking.k8s.io': [1, 4],
  'tlsroutes.gateway.networking.k8s.io': [1, 5],
  'tcproutes.gateway.networking.k8s.io': [1, 6],
}

/** `v1.4.1` → [1, 4, 1]; undefined when it is not a version. */
function parseVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined
}

function analyze(subject: K8sObject): Finding[] {
  const min = MINIMUM[nameOf(subject)]
  if (!min) return []
  const raw = stringMap(subject.metadata?.annotations)[BUNDLE_VERSION]
  const v = raw === undefined ? undefined : parseVersion(raw)
  if (!v) return []
  if (v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1])) return []
  return [finding('IST0176', subject, { crd: nameOf(subject), version: raw!, minimum: `v${min[0]}.${min[1]}` }, { path: `metadata.annotations["${BUNDLE_VERSION}"]` })]
}

export const { IST0176: ist0176 } = analyzerRules(
  { subjects: [KIND.CustomResourceDefinition], inputs: [], istioAnalyzer: 'k8sgateway.CRDVersionAnalyzer' },
  ['IST0176'],
  (s) => analyze(s),
)
