/**
 * Service-side checks after Istio's analyzers.
 *
 * `service.PortNameAnalyzer` (IST0118, IST0150; `analyzers/service/portname.go`, protocol
 * from `pkg/config/kube/conversion.go`): a port's protocol comes from `appProtocol` if set, else
 * from the name's text before the first `-` (tcp, udp, grpc, grpc-web, http, http_proxy, http2,
 * https, tls, mongo, redis, mysql; case-insensitive; `grpc-web*`); UDP ports and ports 25, 53,
 * 3306, 27017 are fine. Services in system namespaces (`SYSTEM_NAMESPACES`) and Services labelled `istio`, `release: istio` or `gateway.istio.io/managed`
 * (Gateway API gateways and waypoints) are skipped. ExternalName
 * Services get IST0150 for a port named `tcp` or without a known protocol, others IST0118.
 *
 * `gateway.IngressGatewayPortAnalyzer` (IST0101 `selector`, IST0162;
 * `analyzers/gateway/gateway.go`): the workloads an Istio Gateway selects (Pods or Pod
 * templates, any namespace: `model/workloads.ts`) must exist, and each server port must be a port
 * or numeric targetPort of a TCP Service in the workload's namespace that selects it.
 */
import { arr, KIND, nsOf, num, rec, str, stringMap } from '../../model/object.js'
import { istioGateway, selects, SYSTEM_NAMESPACES } from '../../model/istio.js'
import { WORKLOAD_KINDS } from '../../model/workloads.js'
import { finding } from '../messages.js'
import { analyzerRules, type Finding } from '../types.js'
import type { K8sObject } from '../../model/object.js'
import type { View } from '../../view/view.js'

const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql'])
const DEFAULT_TCP_PORTS = new Set([25, 53, 3306, 27017])

function knownProtocol(name: string | undefined, appProtocol: string | undefined): boolean {
  if (appProtocol) return ['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss'].includes(appProtocol) || knownProtocol(appProtocol, undefined)
  if (!name) return false
  const n = name.toLowerCase()
  if (n.startsWith('grpc-web')) return true
  return PROTOCOLS.has(n.split('-')[0]!)
}

export const { IST0118: ist0118, IST0150: ist0150 } = analyzerRules(
  { subjects: [KIND.Service], inputs: [], istioAnalyzer: 'service.PortNameAnalyzer' },
  ['IST0118', 'IST0150'],
  (subject) => portNames(subject),
)

function portNames(subject: K8sObject): Finding[] {
  // system namespaces are skipped entirely (`util.IsSystemNamespace`)
  if (SYSTEM_NAMESPACES.has(nsOf(subject))) return []
  const labels = stringMap(subject.metadata?.labels)
  // Istio's own Services: installs, and gateways/waypoints its controllers manage
  if ('istio' in labels || labels.release === 'istio' || 'gateway.istio.io/managed' in labels) return []
  const spec = rec(subject.spec)
  const external = str(spec.type) === 'ExternalName'
  const out: Finding[] = []
  arr(spec.ports).forEach((p, i) => {
    const port = rec(p)
    const name = str(port.name)
    const number = num(port.port)
    if (external) {
      if (name?.toLowerCase() === 'tcp' || !knownProtocol(name, str(port.appProtocol))) {
        out.push(finding('IST0150', subject, { port: String(number ?? ''), name: name ?? '(unnamed)' }, { path: `spec.ports[${i}]` }))
      }
      return
    }
    if (str(port.protocol) === 'UDP' || (number !== undefined && DEFAULT_TCP_PORTS.has(number))) return
    if (!knownProtocol(name, str(port.appProtocol))) {
      out.push(finding('IST0118', subject, { port: String(number ?? ''), name: name ?? '(unnamed)' }, { path: `spec.ports[${i}]` }))
    }
  })
  return out
}

function gatewayPorts(subject: K8sObject, view: View): Finding[] {
  const gw = istioGateway(subject)
  const out: Finding[] = []
  if (!view.covers(KIND.Pod)) return out // a view without workloads: absence proves nothing
  const workloads = [...view.workloadsSelected(gw.selector)]
  if (gw.selectorString && workloads.length === 0) {
    out.push(finding('IST0101', subject, { reftype: 'selector', name: gw.selectorString }, { path: 'spec.selector' }))
  } else {
    const ports = new Set<number>()
    for (const w of workloads) {
      for (const svc of view.servicesIn(w.namespace)) {
        const spec = rec(svc.spec)
        const selector = stringMap(spec.selector)
        if (Object.keys(selector).length === 0 || !selects(selector, w.labels)) continue
        for (const p of arr(spec.ports)) {
          const port = rec(p)
          if ((str(port.protocol) ?? 'TCP') !== 'TCP') continue
          const n = num(port.port)
          if (n !== undefined) ports.add(n)
          const target = num(port.targetPort)
          if (target !== undefined) ports.add(target)
        }
      }
    }
    for (const server of gw.servers) {
      if (!ports.has(server.port)) {
        out.push(finding('IST0162', subject, { port: String(server.port), selector: gw.selectorString }, { path: `spec.servers[${server.index}].port` }))
      }
    }
  }
  return out
}

export const { IST0101: ist0101Selector, IST0162: ist0162 } = analyzerRules(
  { subjects: [KIND.IstioGateway], inputs: [...WORKLOAD_KINDS, KIND.Service], istioAnalyzer: 'gateway.IngressGatewayPortAnalyzer' },
  ['IST0101', 'IST0162'],
  (s, { view }) => gatewayPorts(s, view),
)
