/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
 * holder renews `renewTime` every `renewIntervalMs` (10 s); others check every
 * `retryIntervalMs` (2 s) and take the Lease over once `renewTime + leaseDurationSeconds` (15 s)
 * has passed. Writes use the Lease's resourceVersion, so two candidates cannot both win (409).
 * A leader that cannot renew within the lease duration steps down. `stop()` releases the Lease so
 * a successor takes over at once. Worst-case handover after a leader dies: duration + retry
 * interval (17 s with the defaults).
 */
import * as k8s from '@kubernetes/client-node'
import { apiError, apiStatus } from './client.js'

export interface LeaderOptions {
  namespace: string
  name: string
  identity: string
  leaseDurationSeconds?: number
  renewIntervalMs?: number
  retryIntervalMs?: number
  log?: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void }
  onStartedLeading: () => void
  onStoppedLeading: () => void
  /** called when the Lease cannot be used (the reason) and again when it can (undefined) */
  onProblem?: (reason: string | undefined) => void
}


export class LeaderElector {
  isLeader = false
  /** why the Lease cannot be read or written right now (no replica can lead), or undefined */
  problem: string | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private lastRenew = 0
  private readonly api: k8s.CoordinationV1Api
  private readonly duration: number

  constructor(
    kc: k8s.KubeConfig,
    private readonly o: LeaderOptions,
  ) {
    this.api = kc.makeApiClient(k8s.CoordinationV1Api)
    this.duration = o.leaseDurationSeconds ?? 15
  }

  start(): void {
    this.stopped = false
    void this.loop()
  }

  private async loop(): Promise<void> {
    if (this.stopped) return
    try {
      await this.tick()
      this.setProblem(undefined)
    } catch (e) {
      this.setProblem(this.explain(e))
    }
    if (this.isLeader && Date.now() - this.lastRenew > this.duration * 1000) this.setLeader(false)
    if (this.stopped) return
    this.timer = setTimeout(() => void this.loop(), this.isLeader ? (this.o.renewIntervalMs ?? 10_000) : (this.o.retryIntervalMs ?? 2_000))
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    const { namespace, name, identity } = this.o
    const now = new k8s.V1MicroTime()
    let lease: k8s.V1Lease
    try {
      lease = await this.api.readNamespacedLease({ name, namespace })
    } catch (e) {
      if (apiStatus(e) !== 404) throw e
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: this.duration, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        })
        this.renewed()
      } catch (e2) {
        if (apiStatus(e2) !== 409) throw e2
      }
      return
    }
    const spec = lease.spec ?? {}
    const renewMs = spec.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : 0
    const held = spec.holderIdentity === identity
    const expired = !spec.holderIdentity || renewMs + (spec.leaseDurationSeconds ?? this.duration) * 1000 < Date.now()
    if (!held && !expired) {
      this.setLeader(false)
      return
    }
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: this.duration,
      renewTime: now,
      ...(held ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    }
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: lease })
      this.renewed()
    } catch (e) {
      if (apiStatus(e) !== 409) throw e
      if (!held) this.setLeader(false)
    }
  }

  /** A Lease error in words an operator acts on: the namespace is missing, RBAC forbids, or other. */
  private explain(e: unknown): string {
    const lease = `Lease ${this.o.namespace}/${this.o.name}`
    const status = apiStatus(e)
    const text = apiError(e)
    // the API server's Status for a create in a missing namespace: `namespaces "<ns>" not found`
    if (status === 404 && /namespaces "/.test(text)) return `${lease}: namespace ${this.o.namespace} does not exist (set --lease-namespace or create it)`
    if (status === 403) return `${lease}: forbidden (the ServiceAccount needs get, create and update on coordination.k8s.io leases in ${this.o.namespace})`
    return `${lease}: ${text}`
  }

  private setProblem(reason: string | undefined): void {
    if (reason === this.problem) return
    this.problem = reason
    this.o.onProblem?.(reason)
  }

  private renewed(): void {
    this.lastRenew = Date.now()
    this.setLeader(true)
  }

  private setLeader(v: boolean): void {
    if (v === this.isLeader) return
    this.isLeader = v
    this.o.log?.info({ identity: this.o.identity, lease: `${this.o.namespace}/${this.o.name}` }, v ? 'became leader' : 'stopped leading')
    if (v) this.o.onStartedLeading()
    else this.o.onStoppedLeading()
  }

  /** Stops; a leader releases the Lease so that another candidate takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    if (!this.isLeader) return
    try {
      const lease = await this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace })
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 }
        await this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease })
      }
    } catch (e) {
      this.o.log?.warn({ err: (e as Error).message }, 'lease release failed')
    }
    this.setLeader(false)
  }
}
