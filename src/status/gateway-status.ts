/**
 * Predicted Gateway API Gateway status: the `Accepted`, `Programmed` and per-listener
 * `Accepted`, `Conflicted`, `ResolvedRefs`, `Programmed` conditions a conformant controller would
 * set, and the findings that report them (RG0209–RG0211). A model of a controller's behaviour;
 * the rules in `rules/gateway-api/listeners.ts` report on it.
 *
 * Sources (Gateway API v1.6.1, `apis/v1/gateway_types.go` and the CRD's field docs):
 * - **Distinct listeners** (`Gateway.spec.listeners`): listeners that share a protocol must differ
 *   in port or hostname (HTTP, HTTPS, TLS; a missing hostname is one value) or in port (TCP, UDP);
 *   an HTTP, HTTPS or TLS listener on the port of a TCP listener is not distinct. HTTPS and TLS
 *   listeners on one port both select by SNI, so one hostname on both is not distinct either.
 * - **Handling indistinct listeners**: every indistinct listener is `Conflicted=True`
 *   (`HostnameConflict` for the same port and hostname, `ProtocolConflict` for TCP beside
 *   HTTP/HTTPS/TLS) and none of them is accepted ("MUST NOT pick one conflicting Listener as the
 *   winner"); the Gateway gets `ListenersNotValid`, `Accepted=False` when no listener is left.
 *   The rules apply to a set of listeners merged onto one data plane too: Gateways that request
 *   the same `Hostname` or `NamedAddress` address (Istio's manual deployment: several Gateways
 *   on one ingress Service) are judged as one set.
 * - **Addresses**: an `IPAddress` can be given to one Gateway only; a newer Gateway requesting an
 *   older one's address gets `Programmed=False/AddressNotUsable`.
 * - Listener `Accepted=False/UnsupportedProtocol` for a protocol outside HTTP, HTTPS, TLS, TCP,
 *   UDP; `ResolvedRefs=False/InvalidRouteKinds` for an `allowedRoutes.kinds` entry the protocol
 *   cannot carry; `InvalidCertificateRef` for a certificateRef that is not a core Secret;
 *   `RefNotPermitted` for a Secret in another namespace without a ReferenceGrant (GEP-709);
 *   `PartiallyInvalidCertificateRef` (listener still accepted and programmed) when some
 *   certificateRefs are invalid and others usable (an implementation-specific reason: Envoy
 *   Gateway's; v1.6.1 defines none for it).
 *   HTTPS listeners check their frontend client validation CA refs the same way
 *   (`InvalidCACertificateKind`, `RefNotPermitted`, `InvalidCACertificateRef`, and then
 *   `Accepted=False/NoValidCACertificate`). The Gateway's `ResolvedRefs` holds the same checks for
 *   `spec.tls.backend.clientCertificateRef` (`InvalidClientCertificateRef`, `RefNotPermitted`).
 *   Whether a referenced Secret or ConfigMap exists is not predicted: certificates are made
 *   outside the manifests (cert-manager, external secrets, the conformance suite's own code), so
 *   their absence from files proves nothing, and the live view holds neither kind; whether a
 *   Secret holds a valid certificate is never predicted either: Secret data is never read.
 */
import { arr, describeRef, type K8sObject, KIND, nsOf, num, rec, refOf, sameObject, str } from '../model/object.js'
import { gatewayAddresses, listenerKinds, listeners, referenceGranted } from '../model/gatewayapi.js'
import { hostsMatch } from '../model/hosts.js'
import { finding } from '../rules/messages.js'
import type { Finding } from '../rules/types.js'
import { knowsObjectsIn, type View } from '../view/view.js'

export interface Condition {
  type: 'Accepted' | 'Programmed' | 'Conflicted' | 'ResolvedRefs' | 'OverlappingTLSConfig'
  status: 'True' | 'False'
  reason: string
}

export interface PredictedListener {
  name: string
  conditions: Condition[]
}

export interface GatewayStatus {
  conditions: Condition[]
  listeners: PredictedListener[]
  findings: Finding[]
}

const CORE_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'])
/** protocols whose listeners are told apart by hostname */
const BY_HOSTNAME = new Set(['HTTP', 'HTTPS', 'TLS'])
/** protocols that select a listener by SNI */
const BY_SNI = new Set(['HTTPS', 'TLS'])
/** listeners of one Gateway compared pairwise at most (the CRD allows 64) */
const MAX_LISTENERS = 64
/** Gateways sharing an address judged together at most (beyond: not compared) */
const MAX_MERGED = 32

interface ListenerView {
  gateway: K8sObject
  index: number
  name: string
  port: number | undefined
  protocol: string
  hostname: string
}

/** The listeners of a Gateway (the `listeners` facts the view keeps), with their index. */
function listenersOf(gateway: K8sObject): ListenerView[] {
  return listeners(gateway)
    .slice(0, MAX_LISTENERS)
    .map((l, index) => ({ gateway, index, name: l.name || `#${index}`, port: l.port, protocol: l.protocol, hostname: l.hostname ?? '' }))
}

/** Why two listeners are not distinct, or undefined when they are (see the module docs). */
export function conflictReason(a: Pick<ListenerView, 'port' | 'protocol' | 'hostname'>, b: Pick<ListenerView, 'port' | 'protocol' | 'hostname'>): 'HostnameConflict' | 'ProtocolConflict' | undefined {
  if (a.port === undefined || a.port !== b.port) return undefined
  if (!CORE_PROTOCOLS.has(a.protocol) || !CORE_PROTOCOLS.has(b.protocol)) return undefined
  if ((a.protocol === 'TCP' && BY_HOSTNAME.has(b.protocol)) || (b.protocol === 'TCP' && BY_HOSTNAME.has(a.protocol))) return 'ProtocolConflict'
  if (a.protocol === b.protocol) return BY_HOSTNAME.has(a.protocol) ? (a.hostname === b.hostname ? 'HostnameConflict' : undefined) : 'HostnameConflict'
  if (BY_SNI.has(a.protocol) && BY_SNI.has(b.protocol) && a.hostname === b.hostname) return 'HostnameConflict'
  return undefined
}

function describeListener(l: ListenerView, subject: K8sObject): string {
  return sameObject(l.gateway, subject) ? `listener ${l.name}` : `listener ${l.name} of ${describeRef(refOf(l.gateway))}`
}

/**
 * Predicts a Gateway's status. Pure.
 * @param olderThanSubject whether another object is older than the subject (who keeps a shared
 *   IP address); in admission every stored object is
 */
export function predictGatewayStatus(subject: K8sObject, view: View, olderThanSubject: (o: K8sObject) => boolean): GatewayStatus {
  const findings: Finding[] = []
  const own = listenersOf(subject)
  const ns = nsOf(subject)

  // Gateways merged with this one (a shared Hostname/NamedAddress address), and IP address clashes
  const merged = new Set<K8sObject>()
  let addressNotUsable = false
  for (const a of gatewayAddresses(subject)) {
    const others: K8sObject[] = []
    for (const g of view.gatewaysWithAddress(a.type, a.value)) if (!sameObject(g, subject)) others.push(g)
    if (others.length === 0) continue
    if (a.type === 'IPAddress') {
      const older = others.filter(olderThanSubject)
      if (older.length) {
        addressNotUsable = true
        findings.push(finding('RG0210', subject, { address: a.value, others: older.map((g) => describeRef(refOf(g))).join(', ') }, { path: `spec.addresses[${a.index}]`, related: older, reason: 'AddressNotUsable' }))
      }
    } else {
      for (const g of others) if (merged.size < MAX_MERGED) merged.add(g)
    }
  }
  const foreign = [...merged].flatMap(listenersOf)

  const listeners: PredictedListener[] = []
  let accepted = 0
  for (const l of own) {
    const conditions: Condition[] = []
    // Conflicted: against the other listeners of this Gateway and of the Gateways merged with it
    const against: ListenerView[] = []
    let reason: 'HostnameConflict' | 'ProtocolConflict' | undefined
    for (const o of [...own, ...foreign]) {
      if (o === l) continue
      const r = conflictReason(l, o)
      if (!r) continue
      against.push(o)
      if (reason !== 'ProtocolConflict') reason = r
    }
    const path = `spec.listeners[${l.index}]`
    let acceptedCondition: Condition = { type: 'Accepted', status: 'True', reason: 'Accepted' }
    if (!CORE_PROTOCOLS.has(l.protocol)) {
      acceptedCondition = { type: 'Accepted', status: 'False', reason: 'UnsupportedProtocol' }
      findings.push(finding('RG0211', subject, { where: `listener ${l.name}`, type: 'Accepted', reason: 'UnsupportedProtocol', detail: `protocol ${l.protocol || '(none)'}` }, { path: `${path}.protocol`, reason: 'UnsupportedProtocol' }))
    } else if (reason) {
      acceptedCondition = { type: 'Accepted', status: 'False', reason }
      const related = [...new Set(against.map((o) => o.gateway).filter((g) => !sameObject(g, subject)))]
      findings.push(
        finding('RG0209', subject, { listener: l.name, port: String(l.port), others: against.map((o) => describeListener(o, subject)).join(', '), reason }, { path, related, reason }),
      )
    }
    const refs = resolveListenerRefs(subject, ns, l, view, path, findings)
    if (acceptedCondition.status === 'True' && refs.caInvalid) acceptedCondition = { type: 'Accepted', status: 'False', reason: 'NoValidCACertificate' }
    conditions.push(acceptedCondition)
    conditions.push(reason ? { type: 'Conflicted', status: 'True', reason } : { type: 'Conflicted', status: 'False', reason: 'NoConflicts' })
    conditions.push(refs.condition)
    // a listener that is not accepted, or has no usable certificate, is not programmed
    const programmedOk = acceptedCondition.status === 'True' && refs.condition.reason !== 'InvalidCertificateRef' && refs.condition.reason !== 'RefNotPermitted'
    conditions.push(programmedOk ? { type: 'Programmed', status: 'True', reason: 'Programmed' } : { type: 'Programmed', status: 'False', reason: 'Invalid' })
    // HTTPS listeners of one port whose hostnames overlap (foo.example.com and *.example.com):
    // HTTP/2 connection coalescing can mix them, so both get OverlappingTLSConfig=True
    if (l.protocol === 'HTTPS' && l.hostname && acceptedCondition.status === 'True') {
      const overlapping = [...own, ...foreign].filter((o) => o !== l && o.protocol === 'HTTPS' && o.port === l.port && o.hostname && o.hostname !== l.hostname && hostsMatch(o.hostname, l.hostname))
      if (overlapping.length) {
        conditions.push({ type: 'OverlappingTLSConfig', status: 'True', reason: 'OverlappingHostnames' })
        const related = [...new Set(overlapping.map((o) => o.gateway).filter((g) => !sameObject(g, subject)))]
        findings.push(finding('RG0212', subject, { listener: l.name, port: String(l.port), hostname: l.hostname, others: overlapping.map((o) => `${describeListener(o, subject)} (${o.hostname})`).join(', ') }, { path, related, reason: 'OverlappingHostnames' }))
      }
    }
    if (acceptedCondition.status === 'True') accepted++
    listeners.push({ name: l.name, conditions })
  }

  const gatewayAccepted: Condition =
    own.length > 0 && accepted === own.length
      ? { type: 'Accepted', status: 'True', reason: 'Accepted' }
      : { type: 'Accepted', status: accepted > 0 ? 'True' : 'False', reason: 'ListenersNotValid' }
  const programmed: Condition =
    gatewayAccepted.status === 'False'
      ? { type: 'Programmed', status: 'False', reason: 'Invalid' }
      : addressNotUsable
        ? { type: 'Programmed', status: 'False', reason: 'AddressNotUsable' }
        : { type: 'Programmed', status: 'True', reason: 'Programmed' }
  return { conditions: [gatewayAccepted, programmed, backendClientCertificate(subject, ns, view, findings)], listeners, findings }
}

/**
 * The Gateway's ResolvedRefs: `spec.tls.backend.clientCertificateRef` (the certificate the Gateway
 * presents to backends) must be a core Secret, in another namespace only with a ReferenceGrant.
 */
function backendClientCertificate(subject: K8sObject, ns: string, view: View, out: Finding[]): Condition {
  const ref = rec(rec(rec(rec(subject.spec).tls).backend).clientCertificateRef)
  if (Object.keys(ref).length === 0) return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }
  const at = 'spec.tls.backend.clientCertificateRef'
  const fail = (reason: string, detail: string): Condition => {
    out.push(finding('RG0211', subject, { where: at, type: 'ResolvedRefs', reason, detail }, { path: at, reason }))
    return { type: 'ResolvedRefs', status: 'False', reason }
  }
  const problem = refProblem(ref, ns, view, ['Secret'], 'InvalidClientCertificateRef') ?? certificateProblem(ref, ns, view)
  if (problem) return fail(problem.reason === 'InvalidCertificateRef' ? 'InvalidClientCertificateRef' : problem.reason, problem.detail)
  return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }
}

/**
 * A listener's ResolvedRefs, in the order a controller checks them: route kinds the protocol can
 * carry; certificateRefs (a core Secret, permitted by a ReferenceGrant when in another
 * namespace); for HTTPS listeners the frontend client validation CA refs
 * (`spec.tls.frontend.perPort[port]` or `.default`: a core ConfigMap or Secret, permitted). `caInvalid` when a CA ref fails (Accepted=False/NoValidCACertificate).
 */
function resolveListenerRefs(subject: K8sObject, ns: string, l: ListenerView, view: View, path: string, out: Finding[]): { condition: Condition; caInvalid: boolean } {
  const raw = rec(arr(rec(subject.spec).listeners)[l.index])
  const fail = (reason: string, detail: string, at: string, caInvalid = false) => {
    out.push(finding('RG0211', subject, { where: `listener ${l.name}`, type: 'ResolvedRefs', reason, detail }, { path: at, reason }))
    return { condition: { type: 'ResolvedRefs', status: 'False', reason } as Condition, caInvalid }
  }
  // the same answer attachment reads (model/gatewayapi.ts listenerKinds); other protocols are judged elsewhere
  if (CORE_PROTOCOLS.has(l.protocol)) {
    const bad = listenerKinds(raw).invalid[0]
    const mode = l.protocol === 'TLS' ? ` (${str(rec(raw.tls).mode) ?? 'Passthrough'})` : ''
    if (bad) return fail('InvalidRouteKinds', `${bad.group}/${bad.kind} on a ${l.protocol}${mode} listener`, `${path}.allowedRoutes.kinds[${bad.index}]`)
  }
  // every certificateRef is judged: a reference not permitted fails the listener (GEP-709); when
  // some certificates are usable and others not, the listener is programmed with the usable ones
  // and says so (PartiallyInvalidCertificateRef, as Envoy Gateway does; the API names no reason for it)
  const certs = arr(rec(raw.tls).certificateRefs)
  const bad: { index: number; reason: string; detail: string }[] = []
  for (let i = 0; i < certs.length; i++) {
    const problem = refProblem(rec(certs[i]), ns, view, ['Secret'], 'InvalidCertificateRef') ?? certificateProblem(rec(certs[i]), ns, view)
    if (problem) bad.push({ index: i, ...problem })
  }
  const first = bad.find((b) => b.reason === 'RefNotPermitted') ?? bad[0]
  if (first) {
    const at = `${path}.tls.certificateRefs[${first.index}]`
    if (first.reason === 'RefNotPermitted' || bad.length === certs.length) return fail(first.reason, first.detail, at)
    return fail('PartiallyInvalidCertificateRef', `${bad.map((b) => b.detail).join('; ')}; the listener serves the other ${certs.length - bad.length} of ${certs.length} certificates`, at)
  }
  if (l.protocol === 'HTTPS') {
    const frontend = rec(rec(subject.spec).tls).frontend
    const perPort = arr(rec(frontend).perPort).map(rec).find((p) => num(p.port) === l.port)
    const at = perPort ? `spec.tls.frontend.perPort[port=${l.port}].tls.validation` : 'spec.tls.frontend.default.validation'
    const validation = perPort ? rec(rec(perPort.tls).validation) : rec(rec(rec(frontend).default).validation)
    const cas = arr(validation.caCertificateRefs)
    for (let i = 0; i < cas.length; i++) {
      const problem = refProblem(rec(cas[i]), ns, view, ['ConfigMap', 'Secret'], 'InvalidCACertificateKind')
      if (problem) return fail(problem.reason, problem.detail, `${at}.caCertificateRefs[${i}]`, true)
    }
  }
  return { condition: { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }, caInvalid: false }
}

/**
 * What is wrong with a reference to a core object of one of `kinds` (a certificate or CA bundle):
 * another kind or group → `badKind`; another namespace without a ReferenceGrant → RefNotPermitted
 * (GEP-709). Undefined when fine.
 */
function refProblem(ref: Record<string, unknown>, ns: string, view: View, kinds: readonly string[], badKind: string): { reason: string; detail: string } | undefined {
  const kind = str(ref.kind) ?? 'Secret'
  const group = str(ref.group) ?? ''
  if (!kinds.includes(kind) || group !== '') return { reason: badKind, detail: `${group || 'core'}/${kind} is not a ${kinds.join(' or ')}` }
  const refNs = str(ref.namespace) ?? ns
  const name = str(ref.name) ?? ''
  if (refNs !== ns && !granted(view, refNs, ns, kind, name)) return { reason: 'RefNotPermitted', detail: `${kind} ${refNs}/${name} without a ReferenceGrant in ${refNs}` }
  return undefined
}

/**
 * A certificateRef's Secret that is missing, or whose content is no TLS certificate: judged only
 * where the view knows that namespace's Secrets (it covers Secrets and holds one there at least:
 * the cluster's metadata-only informer, or files that carry Secrets), so that manifests whose
 * Secrets are made at run time are not flagged. Content is read only where the view holds it
 * (files; the cluster view keeps Secrets' names, never their data): `kubernetes.io/tls` with a
 * PEM certificate in `tls.crt` and a PEM key in `tls.key`.
 */
function certificateProblem(ref: Record<string, unknown>, ns: string, view: View): { reason: string; detail: string } | undefined {
  const refNs = str(ref.namespace) ?? ns
  const name = str(ref.name) ?? ''
  if (!view.covers(KIND.Secret)) return undefined
  const secret = view.get(KIND.Secret, refNs, name)
  if (!secret) return knowsObjectsIn(view, KIND.Secret, refNs) ? { reason: 'InvalidCertificateRef', detail: `Secret ${refNs}/${name} not found` } : undefined
  const data = secret.data
  if (data === undefined) return undefined // names only: content unknown
  const pem = (key: string, marker: RegExp) => {
    const v = rec(data)[key]
    if (typeof v !== 'string') return false
    const text = Buffer.from(v, 'base64').toString('utf8')
    return marker.test(text)
  }
  if (str(secret.type) !== 'kubernetes.io/tls' || !pem('tls.crt', /-----BEGIN CERTIFICATE-----/) || !pem('tls.key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/)) {
    return { reason: 'InvalidCertificateRef', detail: `Secret ${refNs}/${name} holds no TLS certificate and key (kubernetes.io/tls with PEM tls.crt and tls.key)` }
  }
  return undefined
}

/** Does a ReferenceGrant in `targetNs` let Gateways in `fromNs` reference the core `kind` `name`? (GEP-709) */
function granted(view: View, targetNs: string, fromNs: string, kind: string, name: string): boolean {
  return referenceGranted((ns) => view.referenceGrantsIn(ns), targetNs, 'Gateway', fromNs, kind, name)
}

/** Kinds the predictor reads, for rule metadata. */
export const GATEWAY_STATUS_INPUTS = [KIND.Gateway, KIND.ReferenceGrant]

