/**
 * IST0128 / IST0129, after Istio's `destinationrule.CaCertificateAnalyzer`
 * (`analyzers/destinationrule/ca-certificates.go`): a DestinationRule whose client TLS mode is
 * SIMPLE or MUTUAL at the top level (IST0128) or in a `portLevelSettings` entry (IST0129) without
 * `caCertificates` does not verify the server's certificate. A `credentialName` on a
 * DestinationRule with a `workloadSelector` (a gateway's rule) brings its CA from the Secret, so
 * that case is not reported. Reads: the subject only.
 */
import { arr, KIND, num, rec, str } from '../../model/object.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'
import type { K8sObject } from '../../model/object.js'

const VERIFYING = new Set(['SIMPLE', 'MUTUAL'])

function analyze(subject: K8sObject): Finding[] {
  const spec = rec(subject.spec)
  const selector = spec.workloadSelector !== undefined && spec.workloadSelector !== null
  const host = str(spec.host) ?? ''
  const unverified = (tls: Record<string, unknown>) => {
    const mode = str(tls.mode) ?? ''
    if (!VERIFYING.has(mode) || str(tls.caCertificates)) return undefined
    if (selector && str(tls.credentialName)) return undefined
    return mode
  }
  const out: Finding[] = []
  const policy = rec(spec.trafficPolicy)
  const top = unverified(rec(policy.tls))
  if (top) out.push(finding('IST0128', subject, { mode: top, host }, { path: 'spec.trafficPolicy.tls' }))
  arr(policy.portLevelSettings).forEach((p, i) => {
    const mode = unverified(rec(rec(p).tls))
    if (mode) out.push(finding('IST0129', subject, { mode, host, port: String(num(rec(rec(p).port).number) ?? '') }, { path: `spec.trafficPolicy.portLevelSettings[${i}].tls` }))
  })
  return out
}

export const { IST0128: ist0128, IST0129: ist0129 } = analyzerRules(
  { subjects: [KIND.DestinationRule], inputs: [], istioAnalyzer: 'destinationrule.CaCertificateAnalyzer' },
  ['IST0128', 'IST0129'],
  (s) => analyze(s),
)
