/**
 * The live view: one client-node informer (ListWatch) per served kind feeding the ClusterView.
 *
 * client-node's ListWatch re-lists on 410 Gone and re-watches when a watch ends cleanly, but stops
 * for good on any other error; here each informer is restarted with capped exponential backoff
 * (0.5 s doubling to 30 s). Watches ask for bookmarks and a server-side timeout
 * (`watchTimeoutSeconds`), so a healthy watch shows activity at least that often; a watch with
 * no activity for that long plus 30 s is treated as hung and restarted. Objects are stripped
 * before caching (see strip.ts); the informer's cache and the view share one copy.
 *
 * Readiness: not ready until every served kind has listed once, and again while any watch has
 * been down (error or silence) for longer than `maxStalenessMs`. Optional kinds (Pods, watched
 * metadata-only) never hold readiness: the view covers them once they have listed, so a cluster
 * whose RBAC does not grant them only loses the checks that read them. Kinds whose CRD is absent are
 * skipped and discovery is retried every `discoveryIntervalMs`.
 */
import * as k8s from '@kubernetes/client-node'
import type { K8sObject } from '../model/object.js'
import type { ClusterView } from '../view/view.js'
import { apiError, discover, listKind, type ServedKind } from './client.js'
import { ACCEPT_METADATA, collectionPath, kindKey, type WatchedKind, WATCHED_KINDS } from './kinds.js'
import { strip } from './strip.js'

export interface KindStatus {
  kind: string
  apiVersion: string
  synced: boolean
  /** ms epoch of the last watch event or bookmark, or the last (re)connect */
  lastActivity: number
  /** ms epoch of the last completed list */
  lastSync: number
  /** ms epoch since which the watch is down (error or silence), if it is */
  downSince?: number
  restarts: number
}

export interface SyncOptions {
  maxStalenessMs?: number
  discoveryIntervalMs?: number
  watchTimeoutSeconds?: number
  pageSize?: number
  log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void }
  /** for tests: the clock */
  now?: () => number
  /**
   * Where informer events go (default: the view). Cluster mode passes its PendingWrites, which
   * forwards to the view and settles pending objects (see view/pending.ts).
   */
  sink?: ViewSink
}

/** Takes informer events: objects added or modified, and objects deleted. */
export interface ViewSink {
  upsert(obj: K8sObject): unknown
  remove(obj: K8sObject): unknown
}

/**
 * A client-node Watch that asks for bookmarks and a server-side timeout, and strips objects.
 * For metadata-only kinds its requests carry `Accept: …;as=PartialObjectMetadata;…`: client-node's
 * Watch reads only the kubeconfig's current cluster and fetch options, so a kubeconfig that adds
 * the header to those options is all it takes.
 */
class StrippingWatch extends k8s.Watch {
  constructor(
    kc: k8s.KubeConfig,
    private readonly kind: ServedKind,
    private readonly timeoutSeconds: number,
    private readonly onActivity: (phase: string) => void,
  ) {
    super(kind.metadataOnly ? withAccept(kc, ACCEPT_METADATA) : kc)
  }

  override watch(path: string, queryParams: Record<string, unknown>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds }
    return super.watch(path, params, (phase, obj, raw) => {
      this.onActivity(phase)
      const o = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? strip(obj as K8sObject, this.kind.apiVersion, this.kind.kind, false, this.kind.metadataOnly) : obj
      callback(phase, o, raw)
    }, done)
  }
}

/** `kc`, with `Accept: accept` on the fetch options it gives (what client-node's Watch uses). */
function withAccept(kc: k8s.KubeConfig, accept: string): k8s.KubeConfig {
  return new Proxy(kc, {
    get(target, prop, receiver) {
      if (prop !== 'applyToFetchOptions') return Reflect.get(target, prop, receiver)
      return async (opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0]) => {
        const init = await target.applyToFetchOptions(opts)
        ;(init.headers as { set(k: string, v: string): void }).set('Accept', accept)
        return init
      }
    },
  })
}

const BACKOFF_MIN_MS = 500
const BACKOFF_MAX_MS = 30_000

class KindInformer {
  readonly status: KindStatus
  private informer: k8s.ListWatch<k8s.KubernetesObject> | undefined
  private backoff = BACKOFF_MIN_MS
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private errored = false

  constructor(
    private readonly kc: k8s.KubeConfig,
    readonly kind: ServedKind,
    private readonly view: ViewSink,
    private readonly opts: Required<Pick<SyncOptions, 'watchTimeoutSeconds' | 'pageSize' | 'now'>> & Pick<SyncOptions, 'log'> & { onSynced?: () => void },
  ) {
    this.status = { kind: kindKey(kind), apiVersion: kind.apiVersion, synced: false, lastActivity: 0, lastSync: 0, restarts: 0 }
  }

  async start(): Promise<void> {
    const k = this.kind
    const watch = new StrippingWatch(this.kc, k, this.opts.watchTimeoutSeconds, () => this.activity())
    const listFn = async () => {
      const list = await listKind(this.kc, k, this.opts.pageSize)
      const first = !this.status.synced
      this.status.synced = true
      if (first) this.opts.onSynced?.()
      this.status.lastSync = this.opts.now()
      this.activity()
      return list as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>
    }
    const inf = new k8s.ListWatch<k8s.KubernetesObject>(collectionPath(k.group, k.version, k.plural), watch, listFn, false)
    inf.on('add', (o) => this.view.upsert(o as K8sObject))
    inf.on('update', (o) => this.view.upsert(o as K8sObject))
    inf.on('delete', (o) => this.view.remove({ ...(o as K8sObject), apiVersion: k.apiVersion, kind: k.kind }))
    inf.on('connect', () => this.activity())
    inf.on('error', (err) => this.failed(err))
    this.informer = inf
    await this.run()
  }

  private async run(): Promise<void> {
    if (this.stopped || !this.informer) return
    this.errored = false
    await this.informer.start()
    if (!this.errored) {
      this.backoff = BACKOFF_MIN_MS
      delete this.status.downSince
    }
  }

  private activity(): void {
    this.status.lastActivity = this.opts.now()
    delete this.status.downSince
  }

  private failed(err: unknown): void {
    this.errored = true
    this.status.downSince ??= this.opts.now()
    if (this.stopped) return
    const delay = this.backoff
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS)
    this.opts.log?.warn({ kind: this.status.kind, err: apiError(err), retryInMs: delay }, 'watch failed; restarting')
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.status.restarts++
      void this.run()
    }, delay)
    this.timer.unref()
  }

  /** Restarts a watch that has been silent for longer than `silentMs`. */
  checkSilence(silentMs: number): void {
    if (this.stopped || !this.status.synced || this.status.downSince !== undefined) return
    if (this.opts.now() - this.status.lastActivity <= silentMs) return
    this.status.downSince = this.opts.now()
    this.opts.log?.warn({ kind: this.status.kind }, 'watch silent; restarting')
    void this.informer?.stop().then(() => {
      this.status.restarts++
      return this.run()
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.informer?.stop()
  }
}

/** Keeps a ClusterView in step with the API server. */
export class ClusterSync {
  private readonly informers = new Map<string, KindInformer>()
  /** served kinds that admission needs (not optional) */
  private readonly required = new Set<string>()
  private absent: WatchedKind[] = []
  private discovered = false
  private timers: NodeJS.Timeout[] = []
  private readonly now: () => number
  private readonly maxStalenessMs: number

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly view: ClusterView,
    private readonly opts: SyncOptions = {},
  ) {
    this.now = opts.now ?? Date.now
    this.maxStalenessMs = opts.maxStalenessMs ?? 60_000
  }

  /**
   * Discovers served kinds and starts their informers; resolves when every informer has made
   * its first attempt (not necessarily successfully: see `notReady`). Never throws: an
   * unreachable API server is retried.
   */
  async start(): Promise<void> {
    await this.rediscover()
    const discoveryMs = this.opts.discoveryIntervalMs ?? 60_000
    const t1 = setInterval(() => void this.rediscover(), discoveryMs)
    const timeout = this.opts.watchTimeoutSeconds ?? 300
    const t2 = setInterval(() => {
      for (const inf of this.informers.values()) inf.checkSilence((timeout + 30) * 1000)
    }, 5_000)
    t1.unref()
    t2.unref()
    this.timers.push(t1, t2)
  }

  private async rediscover(): Promise<void> {
    let result
    try {
      result = await discover(this.kc, this.discovered ? this.absent : WATCHED_KINDS)
    } catch (e) {
      this.opts.log?.warn({ err: apiError(e) }, 'API discovery failed; retrying')
      if (!this.discovered) {
        await new Promise((r) => setTimeout(r, 1000).unref())
        return this.rediscover()
      }
      return
    }
    this.discovered = true
    this.absent = result.absent
    for (const k of result.served) if (!k.optional) this.required.add(kindKey(k))
    this.updateCoverage()
    if (result.absent.length) this.opts.log?.info({ absent: result.absent.map(kindKey) }, 'kinds not served; checking again later')
    await Promise.all(
      result.served
        .filter((k) => !this.informers.has(kindKey(k)))
        .map((k) => {
          const inf = new KindInformer(this.kc, k, this.opts.sink ?? this.view, {
            watchTimeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
            pageSize: this.opts.pageSize ?? 500,
            now: this.now,
            log: this.opts.log,
            onSynced: k.optional ? () => this.updateCoverage() : undefined,
          })
          this.informers.set(kindKey(k), inf)
          return inf.start()
        }),
    )
  }

  /**
   * The kinds the view is complete for: every served kind admission needs (listed or not: until
   * then `notReady` holds requests back), and each optional kind once it has listed.
   */
  private updateCoverage(): void {
    const covered = new Set(this.required)
    for (const [key, inf] of this.informers) if (inf.kind.optional && inf.status.synced) covered.add(key)
    this.view.setCoverage(covered)
  }

  /** Why the view cannot be trusted right now, or undefined when it can. Optional kinds (Pods) never hold it back. */
  notReady(): string | undefined {
    if (!this.discovered) return 'API discovery has not completed'
    const unsynced = [...this.informers.values()].filter((i) => !i.status.synced && !i.kind.optional).map((i) => i.status.kind)
    if (unsynced.length) return `informers not synced: ${unsynced.join(', ')}`
    const now = this.now()
    for (const i of this.informers.values()) {
      if (i.kind.optional) continue
      const down = i.status.downSince
      if (down !== undefined && now - down > this.maxStalenessMs) return `watch for ${i.status.kind} down for ${Math.round((now - down) / 1000)} s`
    }
    return undefined
  }

  status(): KindStatus[] {
    return [...this.informers.values()].map((i) => ({ ...i.status }))
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    await Promise.all([...this.informers.values()].map((i) => i.stop()))
  }
}
