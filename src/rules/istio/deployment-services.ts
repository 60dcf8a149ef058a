/**
 * After Istio's `deployment.MultiServiceAnalyzer` (`analyzers/deployment/services.go`, mesh
 * membership from `util/in_mesh.go`), for a Deployment in the mesh (an `istio-proxy` container;
 * else the template's `sidecar.istio.io/inject` label, then annotation; else the namespace's
 * `istio-injection: enabled`) that is not a waypoint (`gateway.istio.io/managed:
 * istio.io-mesh-controller`), over the Services of its namespace whose non-empty selector selects
 * its template:
 * - IST0116 DeploymentAssociatedToMultipleServices: one port number with different protocols
 *   (unset is TCP) across those Services, once per port;
 * - IST0137 DeploymentConflictingPorts: one targetPort (a missing or 0 targetPort is the port)
 *   that several `port`s map onto, once per targetPort.
 * Reads: Services of the Deployment's namespace, its Namespace.
 */
import { arr, type K8sObject, KIND, nameOf, nsOf, num, rec, str, stringMap } from '../../model/object.js'
import { selects } from '../../model/istio.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'
import type { View } from '../../view/view.js'

const INJECT = 'sidecar.istio.io/inject'

function inMesh(dep: K8sObject, view: View): boolean {
  const template = rec(rec(dep.spec).template)
  const meta = rec(template.metadata)
  if (arr(rec(template.spec).containers).some((c) => str(rec(c).name) === 'istio-proxy' && str(rec(c).image))) return true
  const labels = stringMap(meta.labels)
  if (INJECT in labels) return labels[INJECT] === 'true'
  const annotations = stringMap(meta.annotations)
  if (INJECT in annotations) return annotations[INJECT] === 'true'
  const ns = view.get(KIND.Namespace, '', nsOf(dep))
  return ns !== undefined && stringMap(ns.metadata?.labels)['istio-injection'] === 'enabled'
}

function analyze(subject: K8sObject, view: View): Finding[] {
  if (stringMap(subject.metadata?.labels)['gateway.istio.io/managed'] === 'istio.io-mesh-controller') return []
  if (!inMesh(subject, view)) return []
  const podLabels = stringMap(rec(rec(rec(subject.spec).template).metadata).labels)
  const protocols = new Map<number, Map<string, string[]>>()
  const targets = new Map<string, Map<number, string>>()
  for (const svc of view.servicesIn(nsOf(subject))) {
    const spec = rec(svc.spec)
    const selector = stringMap(spec.selector)
    if (Object.keys(selector).length === 0 || !selects(selector, podLabels)) continue
    const name = `${nsOf(svc)}/${nameOf(svc)}`
    for (const p of arr(spec.ports)) {
      const port = num(rec(p).port)
      if (port === undefined) continue
      const protocol = str(rec(p).protocol) || 'TCP'
      let byProtocol = protocols.get(port)
      if (!byProtocol) protocols.set(port, (byProtocol = new Map()))
      byProtocol.set(protocol, [...(byProtocol.get(protocol) ?? []), name])
      const raw = rec(p).targetPort
      const target = raw === undefined || raw === 0 || raw === '' || raw === '0' ? String(port) : String(raw)
      let ports = targets.get(target)
      if (!ports) targets.set(target, (ports = new Map()))
      ports.set(port, name)
    }
  }
  const out: Finding[] = []
  for (const [port, byProtocol] of protocols) {
    if (byProtocol.size < 2) continue
    const services = [...byProtocol.values()].flat().sort()
    out.push(finding('IST0116', subject, { port: String(port), services: services.join(', ') }, { path: 'spec.template' }))
  }
  for (const [target, ports] of targets) {
    if (ports.size < 2) continue
    out.push(finding('IST0137', subject, { targetPort: target, ports: [...ports.keys()].sort((a, b) => a - b).join(', '), services: [...ports.values()].sort().join(', ') }, { path: 'spec.template' }))
  }
  return out
}

export const { IST0116: ist0116, IST0137: ist0137 } = analyzerRules(
  { subjects: [KIND.Deployment], inputs: [KIND.Service, KIND.Namespace], istioAnalyzer: 'deployment.MultiServiceAnalyzer' },
  ['IST0116', 'IST0137'],
  (s, { view }) => analyze(s, view),
)
