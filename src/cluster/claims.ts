/**
 * Claims: the API server as the arbiter between replicas (issue #24).
 *
 * Pending writes (view/pending.ts) close the concurrent-apply race inside one replica. Across
 * replicas, two conflicting objects whose reviews reach different replicas before either is
 * stored would both be admitted. Here, before a replica admits a CREATE or UPDATE (not dryRun)
 * that holds keys of a deny-level conflict rule, it claims each key by creating a
 * `coordination.k8s.io/v1` Lease named after the key in routeguard's namespace, with
 * `holderIdentity` the object's `namespace/name`. etcd's compare-and-swap decides: a create that
 * fails with AlreadyExists for another live holder means another replica admitted a
 * conflicting object an instant ago, and this review is denied naming it. No protocol of our own
 * runs between replicas.
 *
 * Keys (`claimKeys`), the index keys the conflict rules look objects up by:
 * - IST0109 (virtualservice.ConflictingMeshGatewayHostsAnalyzer): each FQDN host of a mesh-bound
 *   VirtualService (the exportTo scope is not part of the key: two VirtualServices for one host
 *   applied within the same instant with disjoint scopes wait for each other, a retry passes);
 * - RG0101: each (gateway, host, match signature) of a gateway-bound VirtualService;
 * - RG0103: each (route kind, parentRef, hostname or route namespace, match signature) of an
 *   HTTPRoute or GRPCRoute (Gateway API v1 "Route Precedence": identical matches conflict).
 * RG0102, RG0104 and wildcard/overlap conflicts have no exact key and are not claimed: the
 * audit reports a pair that slipped through. An object with more than MAX_CLAIM_KEYS keys
 * claims none (`tooMany`): a claim costs one API request per key.
 *
 * Keys are claimed one at a time in sorted order, so of two racing objects that share several
 * keys the first contested key decides and never both lose. A claim held by the same object is
 * renewed; an expired one (another replica admitted an object that never got stored) is taken
 * over with the Lease's resourceVersion. Claims this replica made are deleted once the
 * informer shows their object stored (`onStored`); the audit leader deletes expired ones
 * (`collectStrays`). Each claim call has its own timeout inside the review deadline; past it,
 * or on an API error, the review follows `failurePolicy`.
 */
import { createHash } from 'node:crypto'
import * as https from 'node:https'
import * as k8s from '@kubernetes/client-node'
import { idOf, type K8sObject, KIND, kindKeyOf, lengthPrefixed, nameOf, nsOf } from '../model/object.js'
import { forEachGatewayMatch, gatewayMatchKey, virtualService, vsFQDNs } from '../model/istio.js'
import { isGatewayParent, route } from '../model/gatewayapi.js'
import { routeMatchKey, routeMatchScopes } from '../view/view.js'
import { shorten } from '../model/text.js'
import { apiError, apiStatus, requestJSON } from './client.js'

/** Keys one object may claim; one with more claims none (one API request per key). */
export const MAX_CLAIM_KEYS = 32
/** Default time a claim lives without renewal, seconds (the pending-write TTL's order). */
export const CLAIM_DURATION_SECONDS = 5
/** Default time one claim call may take, ms (inside the API server's 5 s webhook timeout). */
export const CLAIM_TIMEOUT_MS = 1000
export const CLAIM_LABEL = 'routeguard.io/claim'
export const CLAIM_KEY_ANNOTATION = 'routeguard.io/claim-key'
export const CLAIM_KIND_ANNOTATION = 'routeguard.io/claim-kind'
export const CLAIM_REPLICA_ANNOTATION = 'routeguard.io/claimed-by'
/** Lease names start with this (the RBAC Role's leases are in routeguard's namespace). */
export const CLAIM_PREFIX = 'routeguard-claim-'

/** One key an object holds, and the rule whose conflict it stands for. */
export interface ClaimKey {
  code: 'IST0109' | 'RG0101' | 'RG0103'
  /** the key as the index holds it */
  key: string
  /** for messages: `host reviews.default.svc.cluster.local` */
  describe: string
}

/**
 * The claim keys of `obj` for the conflict rules in `codes` (those the policy denies).
 * @returns the keys, sorted and unique; `tooMany` when there are more than MAX_CLAIM_KEYS
 */
export function claimKeys(obj: K8sObject, codes: ReadonlySet<string>): { keys: ClaimKey[]; tooMany: boolean } {
  const out = new Map<string, ClaimKey>()
  const add = (k: ClaimKey) => out.size <= MAX_CLAIM_KEYS && out.set(lengthPrefixed([k.code, k.key]), k)
  const kind = kindKeyOf(obj)
  if (kind === KIND.VirtualService) {
    const vs = virtualService(obj)
    if (codes.has('IST0109') && vs.mesh) for (const host of vsFQDNs(vs)) add({ code: 'IST0109', key: host, describe: `mesh host ${host}` })
    if (codes.has('RG0101')) forEachGatewayMatch(vs, (gateway, host, m) => add({ code: 'RG0101', key: gatewayMatchKey(gateway, host, m.sig), describe: `gateway ${gateway} host ${host}` }))
  } else if ((kind === KIND.HTTPRoute || kind === KIND.GRPCRoute) && codes.has('RG0103')) {
    const r = route(obj)
    for (const parent of r.parentRefs) {
      for (const h of routeMatchScopes(parent, r)) {
        const describe = `${parent.kind} ${parent.namespace}/${parent.name}${isGatewayParent(parent) && h ? ` hostname ${h}` : ''}`
        for (const match of r.matches) add({ code: 'RG0103', key: routeMatchKey(kind, parent, h, match.sig), describe })
      }
    }
  }
  if (out.size > MAX_CLAIM_KEYS) return { keys: [], tooMany: true }
  return { keys: [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k), tooMany: false }
}

/** The Lease name of a claim key: the prefix and 40 hex characters of its SHA-256. */
export function claimLeaseName(k: ClaimKey): string {
  return `${CLAIM_PREFIX}${createHash('sha256').update(lengthPrefixed([k.code, k.key])).digest('hex').slice(0, 40)}`
}

export type ClaimOutcome =
  | { result: 'claimed'; made: number }
  | { result: 'conflict'; key: ClaimKey; holder: string; holderKind: string; ageMs: number }
  | { result: 'error'; error: string }

export interface ClaimsOptions {
  /** routeguard's namespace (the Leases live there) */
  namespace: string
  /** this replica, written on each claim (`routeguard.io/claimed-by`) */
  identity: string
  durationSeconds?: number
  timeoutMs?: number
  /** ms epoch clock (tests) */
  now?: () => number
  log?: { warn: (o: object, m: string) => void }
  /** claim latency, seconds, and the outcome */
  observe?: (seconds: number, result: ClaimOutcome['result']) => void
}

interface Lease {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string }
}

/** Lease claims of one replica. See the module comment. */
export class Claims {
  /** object id (`kind|ns|name`) → Lease names this replica holds for it */
  private readonly held = new Map<string, Set<string>>()
  private readonly agent: https.Agent
  private readonly duration: number
  private readonly timeoutMs: number
  private readonly now: () => number

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly o: ClaimsOptions,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 16 })
    this.duration = o.durationSeconds ?? CLAIM_DURATION_SECONDS
    this.timeoutMs = o.timeoutMs ?? CLAIM_TIMEOUT_MS
    this.now = o.now ?? Date.now
  }

  /** Claims held by this replica now (objects). */
  get size(): number {
    return this.held.size
  }

  /**
   * Claims every key for `obj`, in order, within the claim timeout.
   * @returns claimed; conflict (another live holder: what it holds, since when); or error (the
   *   API server refused or did not answer in time: the caller follows failurePolicy). Never throws.
   */
  async claim(obj: K8sObject, keys: ClaimKey[]): Promise<ClaimOutcome> {
    const started = performance.now()
    const deadline = started + this.timeoutMs
    const holder = `${nsOf(obj)}/${nameOf(obj)}`
    const kind = kindKeyOf(obj) ?? ''
    const made: string[] = []
    let outcome: ClaimOutcome = { result: 'claimed', made: 0 }
    try {
      for (const k of keys) {
        const r = await this.claimOne(k, holder, kind, deadline)
        if (r !== 'mine') {
          outcome = { result: 'conflict', key: k, ...r }
          break
        }
        made.push(claimLeaseName(k))
      }
    } catch (e) {
      outcome = { result: 'error', error: (e as { timedOut?: boolean }).timedOut ? `no answer from the API server within the claim timeout (${this.timeoutMs} ms)` : apiError(e) }
    }
    if (outcome.result === 'claimed') {
      outcome = { result: 'claimed', made: made.length }
      const set = this.held.get(idOf(obj)) ?? new Set()
      for (const m of made) set.add(m)
      if (set.size) this.held.set(idOf(obj), set)
    } else {
      // what this call took is given back at once: a losing object never blocks a third one
      void this.release(made, holder)
    }
    this.o.observe?.((performance.now() - started) / 1000, outcome.result)
    return outcome
  }

  /** One key: `mine` when created, renewed or taken over; else the live holder. @throws API errors (status in `code`), timeouts */
  private async claimOne(k: ClaimKey, holder: string, kind: string, deadline: number): Promise<'mine' | { holder: string; holderKind: string; ageMs: number }> {
    const name = claimLeaseName(k)
    const nowIso = new k8s.V1MicroTime(this.now()).toISOString()
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.o.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'routeguard', [CLAIM_LABEL]: 'true' },
        annotations: { [CLAIM_KEY_ANNOTATION]: shorten(`${k.code} ${k.describe}`, 256), [CLAIM_KIND_ANNOTATION]: kind, [CLAIM_REPLICA_ANNOTATION]: shorten(this.o.identity, 253) },
      },
      spec: { holderIdentity: holder, leaseDurationSeconds: this.duration, acquireTime: nowIso, renewTime: nowIso },
    }
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.request('POST', base, body, deadline)
        return 'mine'
      } catch (e) {
        if (!(apiStatus(e) === 409)) throw e
      }
      let current: Lease
      try {
        current = (await this.request('GET', `${base}/${name}`, undefined, deadline)) as Lease
      } catch (e) {
        // deleted between our create and get: try the create again
        if (apiStatus(e) === 404) continue
        throw e
      }
      const same = current.spec.holderIdentity === holder && current.metadata.annotations?.[CLAIM_KIND_ANNOTATION] === kind
      const renewed = Date.parse(current.spec.renewTime ?? '') || 0
      const live = renewed + (current.spec.leaseDurationSeconds ?? this.duration) * 1000 > this.now()
      if (!same && live && current.spec.holderIdentity) {
        const acquired = Date.parse(current.spec.acquireTime ?? '') || renewed
        return { holder: current.spec.holderIdentity, holderKind: current.metadata.annotations?.[CLAIM_KIND_ANNOTATION] ?? '', ageMs: Math.max(0, this.now() - acquired) }
      }
      // ours to renew, or expired: replace it at the version read (a 409 means someone was faster: look again)
      const next: Lease = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion }, spec: { ...body.spec, acquireTime: same && live ? current.spec.acquireTime : nowIso } }
      try {
        await this.request('PUT', `${base}/${name}`, next, deadline)
        return 'mine'
      } catch (e) {
        if (!(apiStatus(e) === 409 || apiStatus(e) === 404)) throw e
      }
    }
    throw new Error(`claim ${name}: the Lease kept changing`)
  }

  /**
   * The informer delivered `obj` as stored (not pending): the claims this replica made for it
   * are deleted (best effort; a claim left behind expires, and the audit leader collects it).
   */
  onStored(obj: K8sObject): void {
    const names = this.held.get(idOf(obj))
    if (!names) return
    this.held.delete(idOf(obj))
    void this.release([...names], `${nsOf(obj)}/${nameOf(obj)}`)
  }

  /** Deletes the Leases `names` still held by `holder` (read first: another may have taken one over). */
  private async release(names: string[], holder: string): Promise<void> {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`
    for (const name of names) {
      const deadline = performance.now() + this.timeoutMs
      try {
        const current = (await this.request('GET', `${base}/${name}`, undefined, deadline)) as Lease
        if (current.spec.holderIdentity !== holder) continue
        await this.request('DELETE', `${base}/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: current.metadata.resourceVersion } }, deadline)
      } catch (e) {
        if (!(apiStatus(e) === 404 || apiStatus(e) === 409)) this.o.log?.warn({ lease: name, err: (e as Error).message }, 'claim not released; it expires')
      }
    }
  }

  /**
   * Deletes expired claim Leases (strays of replicas that died or objects never stored); the
   * audit leader calls it each pass.
   * @returns how many were deleted
   * @throws when the Leases cannot be listed
   */
  async collectStrays(): Promise<number> {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`
    const list = (await this.request('GET', `${base}?labelSelector=${encodeURIComponent(`${CLAIM_LABEL}=true`)}`, undefined, performance.now() + 10_000)) as { items?: Lease[] }
    let deleted = 0
    for (const l of list.items ?? []) {
      if (!l.metadata.name.startsWith(CLAIM_PREFIX)) continue
      const renewed = Date.parse(l.spec.renewTime ?? '') || 0
      if (renewed + (l.spec.leaseDurationSeconds ?? this.duration) * 1000 > this.now()) continue
      try {
        await this.request('DELETE', `${base}/${l.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: l.metadata.resourceVersion } }, performance.now() + this.timeoutMs)
        deleted++
      } catch (e) {
        if (!(apiStatus(e) === 404 || apiStatus(e) === 409)) throw e
      }
    }
    return deleted
  }

  close(): void {
    this.agent.destroy()
  }

  /** One JSON request to the API server, cut off at `deadline` (performance.now() ms). @throws as `requestJSON` (status in `code`) */
  private async request(method: string, path: string, body: unknown, deadline: number): Promise<unknown> {
    const left = Math.floor(deadline - performance.now())
    if (left <= 0) throw Object.assign(new Error(`no answer from the API server within the claim timeout (${this.timeoutMs} ms)`), { timedOut: true })
    return requestJSON(this.kc, method, path, { body, timeoutMs: left, agent: this.agent })
  }
}
