/**
 * Pending writes: what this replica admitted and the informers have not delivered yet.
 *
 * The race it closes: two conflicting objects applied at the same moment reach /validate
 * before either is stored, or the second review is decided before the watch delivers the first
 * object; judged against the informers' view alone, both are admitted (two VirtualServices
 * claiming one host: IST0109 slips through). Here an object this replica admitted (CREATE or
 * UPDATE, not dryRun) goes into the view at once as *pending*, so later reviews are judged
 * against it, and it leaves the pending set when
 * - the informer delivers a version of it other than the one the view held when it was
 *   admitted (the write landed; the informer's object replaces it), or
 * - the informer deletes it (an UPDATE's object was deleted; a CREATE's earlier incarnation
 *   going away leaves it pending), or
 * - `ttlMs` passes without either: another webhook denied it, etcd refused it, the client gave
 *   up. The view then goes back to what the informer last delivered.
 *
 * Limits: per replica. With several replicas a conflicting pair whose reviews reach different
 * replicas within the watch delay is still admitted; the background audit reports it. A write
 * that was refused after this replica admitted it weighs on later reviews for at most `ttlMs`
 * (5 s: a watch delivers a stored object within a second on a healthy control plane); a
 * denial that rests on a pending object says so ("admitted N ms ago, not stored yet", see
 * `pendingSince`), and a retry after `ttlMs` passes. A forged review (one that never becomes a
 * write) cannot hold a name for longer than that, nor hold more than `maxPerNamespace` objects
 * of one namespace or `maxPerUser` of one requesting user (the oldest of that namespace or
 * user expires first); the base manifests' NetworkPolicy admits only the API server to the
 * webhook port.
 *
 * Memory: at most `max` entries (the oldest expires first when full); each holds the stripped
 * object and the informer's previous version.
 */
import { strip } from '../cluster/strip.js'
import { type K8sObject, type KindKey, kindKeyOf, lengthPrefixed, nameOf, nsOf } from '../model/object.js'
import type { ClusterView } from './view.js'

/**
 * Objects held as pending right now (by identity of the copy the view holds). They came from
 * admission requests, not from the API server: what writes on their behalf (the subset Service
 * mutator and reconciler) must skip them, and does, through `isPendingObject`.
 */
const HELD = new WeakMap<K8sObject, number>()

/** Is `obj` (as the view holds it) a pending object, i.e. one only a request vouches for? */
export function isPendingObject(obj: K8sObject): boolean {
  return HELD.has(obj)
}

/** When `obj` (as the view holds it) was admitted, ms since the epoch, while it is pending; else undefined. */
export function pendingSince(obj: K8sObject): number | undefined {
  return HELD.get(obj)
}

/** Default time an admitted object stays pending without the informer delivering it, ms (5 s). */
export const PENDING_TTL_MS = 5_000
/** Default cap on pending objects. */
export const MAX_PENDING = 10_000
/** Default cap on pending objects of one namespace, and of one requesting user. */
export const MAX_PENDING_PER_NAMESPACE = 100
export const MAX_PENDING_PER_USER = 100

interface Entry {
  /** the admitted object, as held in the view */
  obj: K8sObject
  /** what the informer had delivered for this identity when the object was admitted */
  base: K8sObject | undefined
  operation: 'CREATE' | 'UPDATE'
  /** ms epoch */
  expires: number
  /** `userInfo.username` of the request that admitted it ('' when none) */
  user: string
}

export interface PendingOptions {
  /** ms an admitted object stays pending (default PENDING_TTL_MS); 0 turns pending writes off */
  ttlMs?: number
  /** pending objects at most (default MAX_PENDING) */
  max?: number
  /** pending objects of one namespace at most (default MAX_PENDING_PER_NAMESPACE) */
  maxPerNamespace?: number
  /** pending objects admitted for one user at most (default MAX_PENDING_PER_USER) */
  maxPerUser?: number
  /** ms epoch clock (tests) */
  now?: () => number
  /** called when an entry expires undelivered (metrics, logs) */
  onExpired?: (obj: K8sObject) => void
}

/**
 * The informers' sink in cluster mode: `upsert`/`remove` take the informers' events, `admitted`
 * takes /validate's admitted writes. The view holds one object per identity: the pending one
 * while it is pending, else the informer's.
 */
export class PendingWrites {
  private readonly entries = new Map<string, Entry>()
  /** keys of the entries by namespace and by requesting user, each in admission order (for the per-namespace and per-user caps) */
  private readonly byNamespace = new Map<string, Set<string>>()
  private readonly byUser = new Map<string, Set<string>>()
  private readonly ttlMs: number
  private readonly max: number
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  /** entries that expired undelivered, since start */
  expired = 0

  constructor(
    private readonly view: ClusterView,
    private readonly opts: PendingOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? PENDING_TTL_MS
    this.max = opts.max ?? MAX_PENDING
    this.now = opts.now ?? Date.now
  }

  /** Pending objects held now. */
  get size(): number {
    return this.entries.size
  }

  /** Is an object of one of `kinds` pending? (A walk over the entries: a handful, at most `max`.) */
  holdsAny(kinds: ReadonlySet<KindKey>): boolean {
    for (const e of this.entries.values()) if (kinds.has(kindKeyOf(e.obj) ?? '')) return true
    return false
  }

  /**
   * An admitted, non-dryRun write from /validate. CREATE and UPDATE put the object in the view
   * as pending; DELETE drops a pending object of that identity (the view goes back to the
   * informer's object, which the informer's DELETED event removes in turn).
   */
  admitted(operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT', object: K8sObject, user = ''): void {
    if (this.ttlMs <= 0 || operation === 'CONNECT') return
    const k = keyOf(object)
    if (k === undefined) return
    this.sweep()
    if (operation === 'DELETE') {
      const e = this.entries.get(k)
      if (e) this.restore(k, e)
      return
    }
    // a name the API server would not store under (none yet, generateName, hostile): no entry
    // could ever be delivered under it
    if (!STORABLE_NAME.test(nameOf(object))) return
    const kind = kindKeyOf(object)!
    const previous = this.entries.get(k)
    const base = previous ? previous.base : this.view.get(kind, nsOf(object), nameOf(object))
    const obj = strip(object, String(object.apiVersion), String(object.kind))
    // re-inserted: the Map's order stays the order of expiry
    if (previous) this.drop(k, previous)
    const now = this.now()
    this.entries.set(k, { obj, base, operation: previous?.operation ?? operation, expires: now + this.ttlMs, user })
    add(this.byNamespace, nsOf(obj), k)
    add(this.byUser, user, k)
    HELD.set(obj, now)
    this.view.upsert(obj)
    while (this.entries.size > this.max) {
      const [oldest, e] = this.entries.entries().next().value as [string, Entry]
      this.expire(oldest, e)
    }
    // one namespace, or one requesting user, holds a bounded share: its oldest entry goes first
    this.capBy(this.byNamespace.get(nsOf(obj)), this.opts.maxPerNamespace ?? MAX_PENDING_PER_NAMESPACE)
    this.capBy(this.byUser.get(user), this.opts.maxPerUser ?? MAX_PENDING_PER_USER)
  }

  /** Expires the oldest entries of `keys` (one namespace's or user's, in admission order) until at most `max` are left. */
  private capBy(keys: Set<string> | undefined, max: number): void {
    while (keys && keys.size > max) {
      const k = keys.values().next().value!
      this.expire(k, this.entries.get(k)!)
    }
  }

  /** An informer ADDED/MODIFIED event. */
  upsert(obj: K8sObject): boolean {
    const k = keyOf(obj)
    const e = k === undefined ? undefined : this.entries.get(k)
    if (e) {
      const rv = obj.metadata?.resourceVersion
      if (e.base !== undefined && rv !== undefined && rv === e.base.metadata?.resourceVersion) {
        // the version the view held before the admission, delivered again (a relist): still pending
        e.base = obj
        return true
      }
      this.drop(k!, e)
    }
    return this.view.upsert(obj)
  }

  /** An informer DELETED event. */
  remove(obj: K8sObject): boolean {
    const k = keyOf(obj)
    const e = k === undefined ? undefined : this.entries.get(k)
    if (e) {
      if (e.operation === 'CREATE' && e.base !== undefined) {
        // the earlier incarnation went away; the admitted one has yet to arrive
        e.base = undefined
        return true
      }
      this.drop(k!, e)
    }
    return this.view.remove(obj)
  }

  /** Expires entries past their TTL (called on every admission and every second). */
  sweep(): void {
    const now = this.now()
    for (const [k, e] of this.entries) {
      if (e.expires > now) break
      this.expire(k, e)
    }
  }

  /** Sweeps every `intervalMs` (unref'd) until `stop()`. */
  start(intervalMs = 1000): void {
    if (this.ttlMs <= 0) return
    this.timer = setInterval(() => this.sweep(), intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private expire(k: string, e: Entry): void {
    this.expired++
    this.restore(k, e)
    this.opts.onExpired?.(e.obj)
  }

  /** Forgets an entry (the view is left as it is). */
  private drop(k: string, e: Entry): void {
    this.entries.delete(k)
    remove(this.byNamespace, nsOf(e.obj), k)
    remove(this.byUser, e.user, k)
    HELD.delete(e.obj)
  }

  /** Drops an entry and puts back what the informer had delivered. */
  private restore(k: string, e: Entry): void {
    this.drop(k, e)
    if (e.base !== undefined) this.view.upsert(e.base)
    else this.view.remove(e.obj)
  }
}

/** A DNS subdomain (RFC 1123), as the API server requires of a custom resource's name. */
const STORABLE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

function keyOf(obj: K8sObject): string | undefined {
  const kind = kindKeyOf(obj)
  const name = nameOf(obj)
  return kind === undefined || !name ? undefined : lengthPrefixed([kind, nsOf(obj), name])
}

function add(index: Map<string, Set<string>>, by: string, k: string): void {
  let keys = index.get(by)
  if (!keys) index.set(by, (keys = new Set()))
  keys.add(k)
}

function remove(index: Map<string, Set<string>>, by: string, k: string): void {
  const keys = index.get(by)
  if (keys?.delete(k) && keys.size === 0) index.delete(by)
}
