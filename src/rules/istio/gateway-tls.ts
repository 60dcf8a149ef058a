/**
 * Istio Gateway TLS checks after Istio's analyzers:
 * - `gateway.SecretAnalyzer` (`analyzers/gateway/secret.go`): the Secret a server's
 *   `tls.credentialName` names must exist in the namespace of the gateway **workload** (the first
 *   workload the Gateway's selector selects), not the Gateway's own namespace: IST0101
 *   `credentialName`; no workload selected: IST0101 `selector`. Only the Secret's metadata is
 *   read (a live view watches Secrets as PartialObjectMetadata); Istio's IST0161 (a Secret whose
 *   certificate is malformed or expired) needs its data and is not mirrored.
 * - `gateway.CertificateAnalyzer` (`analyzers/gateway/certificate.go`): IST0138 when another
 *   Istio Gateway whose selector includes this one's (the other's labels are a superset) has a
 *   server with the same certificate (same `credentialName`, or without credentialName the same
 *   `serverCertificate` and `privateKey`): HTTP/2 connection reuse across hosts then sends
 *   requests to the wrong server (404s). One finding per (certificate, other Gateway); Istio's
 *   one per pair of servers differs only for Gateways that repeat a certificate.
 * Reads: workloads by label, Secrets by name, Istio Gateways by certificate.
 */
import { arr, type K8sObject, KIND, rec, sameObject, str, stringMap } from '../../model/object.js'
// Istio's `selectorSubset(x, y)` (every label of x in y) is `selects(x, y)`
import { istioGateway, selects, serverCertificateKey } from '../../model/istio.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import { describeAll, finding } from '../messages.js'
import { analyzerRules, defineRule, type Finding } from '../types.js'
import type { View } from '../../view/view.js'

function secrets(subject: K8sObject, view: View): Finding[] {
  if (!view.covers(KIND.Pod)) return []
  const gw = istioGateway(subject)
  let workloadNs: string | undefined
  for (const w of view.workloadsSelected(gw.selector)) {
    workloadNs = w.namespace
    break
  }
  if (workloadNs === undefined) return [finding('IST0101', subject, { reftype: 'selector', name: gw.selectorString }, { path: 'spec.selector' })]
  if (!view.covers(KIND.Secret)) return []
  const out: Finding[] = []
  arr(rec(subject.spec).servers).forEach((s, i) => {
    const cn = str(rec(rec(s).tls).credentialName)
    if (!cn) return
    // NewShortOrFullName: `ns/name` names another namespace
    const slash = cn.indexOf('/')
    const [ns, name] = slash >= 0 ? [cn.slice(0, slash), cn.slice(slash + 1)] : [workloadNs!, cn]
    if (!view.get(KIND.Secret, ns, name)) out.push(finding('IST0101', subject, { reftype: 'credentialName', name: cn }, { path: `spec.servers[${i}].tls.credentialName` }))
  })
  return out
}

export const { IST0101: ist0101Credential } = analyzerRules(
  { subjects: [KIND.IstioGateway], inputs: [...WORKLOAD_KINDS, KIND.Secret], istioAnalyzer: 'gateway.SecretAnalyzer' },
  ['IST0101'],
  (s, { view }) => secrets(s, view),
)

export const ist0138 = defineRule({
  code: 'IST0138',
  subjects: [KIND.IstioGateway],
  inputs: [KIND.IstioGateway],
  istioAnalyzer: 'gateway.CertificateAnalyzer',
  check(subject, { view }) {
    const mine = istioGateway(subject)
    const out: Finding[] = []
    // each certificate of the subject is looked up once, and each other Gateway reported once
    // for it: the work is the postings of the subject's certificates, never servers × servers
    const seen = new Set<string>()
    arr(rec(subject.spec).servers).forEach((s, i) => {
      const key = serverCertificateKey(rec(rec(s).tls))
      if (key === undefined || seen.has(key)) return
      seen.add(key)
      const reported = new Set<K8sObject>()
      for (const p of view.istioGatewaysWithCertificate(key)) {
        if (reported.has(p.obj) || sameObject(p.obj, subject) || !selects(mine.selector, stringMap(rec(p.obj.spec).selector))) continue
        reported.add(p.obj)
        out.push(finding('IST0138', subject, { others: describeAll([p.obj]) }, { path: `spec.servers[${i}].tls`, related: [p.obj] }))
      }
    })
    return out
  },
})

