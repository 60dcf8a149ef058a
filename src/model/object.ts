/**
 * Kubernetes object shapes as routeguard reads them, and defensive accessors.
 *
 * Objects reach us from AdmissionReviews, informers and YAML files; none of them is trusted
 * to match its schema, so every rule reads fields through `str`, `arr`, `rec`, `num` instead of
 * casting. A field of the wrong type reads as absent: rules never throw on bad shapes (the one
 * exception: `str`, `arr` and `rec` count reads for the review deadline and throw
 * `DeadlineExceeded` past it, see deadline.ts).
 */
import { tick } from '../deadline.js'

/** `metadata` fields routeguard reads. */
export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  creationTimestamp?: string
  resourceVersion?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [key: string]: unknown
}

/** Any Kubernetes object. `spec` is left `unknown`: read it with the accessors below. */
export interface K8sObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  spec?: unknown
  [key: string]: unknown
}

/**
 * A group-qualified kind, `<group>/<Kind>`; the core group is the empty string (`/Service`).
 * Versions are deliberately left out: v1 and v1beta1 of one kind are the same object.
 */
export type KindKey = string

export const KIND = {
  VirtualService: 'networking.istio.io/VirtualService',
  DestinationRule: 'networking.istio.io/DestinationRule',
  IstioGateway: 'networking.istio.io/Gateway',
  ServiceEntry: 'networking.istio.io/ServiceEntry',
  HTTPRoute: 'gateway.networking.k8s.io/HTTPRoute',
  GRPCRoute: 'gateway.networking.k8s.io/GRPCRoute',
  TLSRoute: 'gateway.networking.k8s.io/TLSRoute',
  TCPRoute: 'gateway.networking.k8s.io/TCPRoute',
  UDPRoute: 'gateway.networking.k8s.io/UDPRoute',
  Gateway: 'gateway.networking.k8s.io/Gateway',
  ReferenceGrant: 'gateway.networking.k8s.io/ReferenceGrant',
  BackendTLSPolicy: 'gateway.networking.k8s.io/BackendTLSPolicy',
  Service: '/Service',
  EndpointSlice: 'discovery.k8s.io/EndpointSlice',
  Pod: '/Pod',
  Deployment: 'apps/Deployment',
  StatefulSet: 'apps/StatefulSet',
  DaemonSet: 'apps/DaemonSet',
  ReplicaSet: 'apps/ReplicaSet',
  Job: 'batch/Job',
  CronJob: 'batch/CronJob',
  Rollout: 'argoproj.io/Rollout',
  Secret: '/Secret',
  ConfigMap: '/ConfigMap',
  RequestAuthentication: 'security.istio.io/RequestAuthentication',
  AuthorizationPolicy: 'security.istio.io/AuthorizationPolicy',
  WorkloadEntry: 'networking.istio.io/WorkloadEntry',
  Sidecar: 'networking.istio.io/Sidecar',
  CustomResourceDefinition: 'apiextensions.k8s.io/CustomResourceDefinition',
  Namespace: '/Namespace',
  Node: '/Node',
} as const

const KIND_KEYS_BY_NAME = new Map<string, KindKey[]>()
for (const key of Object.values(KIND)) {
  const name = key.slice(key.indexOf('/') + 1)
  KIND_KEYS_BY_NAME.set(name, [...(KIND_KEYS_BY_NAME.get(name) ?? []), key])
}

/**
 * The kind keys of KIND named `kind` (a finding's `related` entry has the kind's name only):
 * `Gateway` has two, Istio's and the Gateway API's; an unknown name has none.
 */
export function kindKeysNamed(kind: string): readonly KindKey[] {
  return KIND_KEYS_BY_NAME.get(kind) ?? []
}

/** Facts derived from an object (see `factsOf`). */
export interface Facts<T> {
  /** The object's facts: the kept ones, else computed (and held until the next call). */
  (obj: K8sObject): T
  /** Computes the facts if needed and keeps them as long as the object lives (views call this for what they store). */
  keep(obj: K8sObject): T
}

/**
 * `compute` memoised per object. Objects are not changed after they are read (an update
 * replaces the object), so derived facts stay true for the object's life. Facts of objects a
 * view stores are kept in a WeakMap (`keep`); others, such as the object under review, are held
 * only as the last one asked for, which is all one evaluation needs: adding every review's
 * object to the WeakMap cost about a tenth of an admission check.
 */
export function factsOf<T>(compute: (obj: K8sObject) => T): Facts<T> {
  const kept = new WeakMap<K8sObject, T>()
  let lastObj: K8sObject | undefined
  let lastFacts: T | undefined
  const facts = (obj: K8sObject): T => {
    if (obj === lastObj) return lastFacts!
    // a stored object's kept facts do not take the last slot: asking for them between two
    // questions about the object under review must not make its facts (and the identity of
    // what they hold, which analysis passes key by) be computed again
    const k = kept.get(obj)
    if (k !== undefined) return k
    const v = compute(obj)
    lastObj = obj
    lastFacts = v
    return v
  }
  facts.keep = (obj: K8sObject): T => {
    let v = kept.get(obj)
    if (v === undefined) kept.set(obj, (v = obj === lastObj ? lastFacts! : compute(obj)))
    return v
  }
  return facts
}

/** Identity of one object, as findings and messages name it. */
export interface ObjectRef {
  apiVersion?: string
  kind: string
  namespace: string
  name: string
}

/** `group` of an apiVersion: `networking.istio.io/v1` → `networking.istio.io`, `v1` → ``. */
export function groupOf(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string') return ''
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? '' : apiVersion.slice(0, slash)
}

/** The KIND constants by group and kind, so that known kinds get the one shared string. */
const KNOWN_KINDS = new Map<string, Map<string, KindKey>>()
for (const key of Object.values(KIND)) {
  const slash = key.lastIndexOf('/')
  const group = key.slice(0, slash)
  if (!KNOWN_KINDS.has(group)) KNOWN_KINDS.set(group, new Map())
  KNOWN_KINDS.get(group)!.set(key.slice(slash + 1), key)
}

/**
 * `<group>/<Kind>`. For the kinds in KIND this returns the constant itself (no new string per
 * call: comparisons and Set lookups on it stay cheap on the admission path).
 */
export function kindKey(group: string, kind: string): KindKey {
  return KNOWN_KINDS.get(group)?.get(kind) ?? `${group}/${kind}`
}

/**
 * Known kinds by apiVersion, filled as apiVersions are seen. apiVersions come from users, so
 * the cache is bounded in bytes, not only in entries: at most MAX_API_VERSIONS strings of at
 * most MAX_API_VERSION_LENGTH characters (a 12 MB apiVersion is looked up, never kept).
 */
const KINDS_BY_API_VERSION = new Map<string, Map<string, KindKey> | null>()
const MAX_API_VERSIONS = 256
const MAX_API_VERSION_LENGTH = 64

/** The KindKey of an object, or undefined when apiVersion/kind are missing. */
export function kindKeyOf(obj: K8sObject): KindKey | undefined {
  const kind = obj.kind
  if (typeof kind !== 'string' || kind === '') return undefined
  const apiVersion = obj.apiVersion
  if (typeof apiVersion === 'string') {
    // one lookup by the apiVersion string (its hash is computed once per string), no slicing
    let kinds = KINDS_BY_API_VERSION.get(apiVersion)
    if (kinds === undefined) {
      kinds = KNOWN_KINDS.get(groupOf(apiVersion)) ?? null
      if (KINDS_BY_API_VERSION.size < MAX_API_VERSIONS && apiVersion.length <= MAX_API_VERSION_LENGTH) KINDS_BY_API_VERSION.set(apiVersion, kinds)
    }
    const known = kinds?.get(kind)
    if (known !== undefined) return known
  }
  return kindKey(groupOf(apiVersion), kind)
}

/** Namespace of an object; the empty string when it has none (Istio's analyzer harness does the same). */
export function nsOf(obj: K8sObject): string {
  return str(obj.metadata?.namespace) ?? ''
}

export function nameOf(obj: K8sObject): string {
  return str(obj.metadata?.name) ?? ''
}

export function refOf(obj: K8sObject): ObjectRef {
  return { apiVersion: str(obj.apiVersion), kind: str(obj.kind) ?? '', namespace: nsOf(obj), name: nameOf(obj) }
}

/** Unique id of an object in a view: `<group>/<Kind>|<namespace>|<name>`. */
export function idOf(obj: K8sObject): string {
  return `${kindKeyOf(obj) ?? '?'}|${nsOf(obj)}|${nameOf(obj)}`
}

/** The (kind, namespace, name) of an `idOf` id, or undefined when `id` is not one. */
export function splitId(id: string): { kind: KindKey; namespace: string; name: string } | undefined {
  const [kind, namespace, name, extra] = id.split('|')
  return name === undefined || extra !== undefined ? undefined : { kind: kind!, namespace: namespace!, name }
}

/**
 * Do `a` and `b` have the same identity (kind, namespace, name)? The same check as comparing
 * `idOf`s, without building the strings (rules ask it for every object an index returns).
 */
export function sameObject(a: K8sObject, b: K8sObject): boolean {
  return a === b || (nameOf(a) === nameOf(b) && nsOf(a) === nsOf(b) && kindKeyOf(a) === kindKeyOf(b))
}

/**
 * An unambiguous string for a list of strings: each part as `<length>:<text>`, `undefined` as
 * `-`. Two lists give the same string only when they are equal (each part decodes on its own,
 * so lists of different shapes cannot collide). Used for match signatures, which are index
 * keys, instead of JSON.stringify: that builtin's first call after the server's other work costs
 * a few microseconds of cold cache, on every admission review.
 */
export function lengthPrefixed(parts: readonly (string | undefined)[]): string {
  const pieces: string[] = []
  for (const p of parts) pieces.push(p === undefined ? '-' : `${p.length}:${p}`)
  // join gives one flat string; `+=` would keep a rope of every piece alive in the facts
  return pieces.join('')
}

/** `Kind namespace/name` (or `Kind name` when cluster-scoped / namespace-less), as messages print objects. */
export function describeRef(ref: { kind: string; namespace: string; name: string }): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`
}

export function str(v: unknown): string | undefined {
  tick()
  return typeof v === 'string' ? v : undefined
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

/** Shared empty results of `arr` and `rec` (frozen: readers only, so no allocation per miss). */
const NO_ITEMS: unknown[] = Object.freeze([]) as unknown as unknown[]
const NO_FIELDS: Record<string, unknown> = Object.freeze({})

/** `v` when it is an array, else an empty one (shared and frozen: do not write to the result). */
export function arr(v: unknown): unknown[] {
  tick()
  return Array.isArray(v) ? v : NO_ITEMS
}

/** Strings of an array, skipping entries of other types. */
export function strs(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string')
}

/** `v` when it is a JSON object, else an empty one (shared and frozen: do not write to the result). */
export function rec(v: unknown): Record<string, unknown> {
  tick()
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : NO_FIELDS
}

/** A string-valued map (labels, selectors), dropping non-string values. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(rec(v))) if (typeof val === 'string') out[k] = val
  return out
}

/**
 * Ordering for "who loses" (Gateway API's conflict rule, GEP-1364 / HTTPRoute spec): older
 * `creationTimestamp` first, then `namespace/name` alphabetically. Returns < 0 when `a` is older.
 * Objects without a timestamp (not yet persisted) count as newest.
 */
export function compareAge(a: K8sObject, b: K8sObject): number {
  const ta = timestampMs(a)
  const tb = timestampMs(b)
  if (ta !== tb) return ta - tb
  const ka = `${nsOf(a)}/${nameOf(a)}`
  const kb = `${nsOf(b)}/${nameOf(b)}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

function timestampMs(o: K8sObject): number {
  const t = str(o.metadata?.creationTimestamp)
  const ms = t ? Date.parse(t) : NaN
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms
}

/**
 * JSON with object keys sorted, for comparing matches by value (Istio compares matches by their
 * JSON, and Go marshals struct fields in a fixed order and map keys sorted). Built by
 * JSON.stringify, so the result is one flat string (cheap to keep as a map key).
 */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val === null || typeof val !== 'object' || Array.isArray(val)) return val
    const sorted: Record<string, unknown> = {}
    for (const k of Object.keys(val).sort()) sorted[k] = (val as Record<string, unknown>)[k]
    return sorted
  }) ?? 'null'
}
