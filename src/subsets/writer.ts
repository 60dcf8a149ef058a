/**
 * Writing generated Services to the API server: server-side apply with fieldManager
 * `routeguard` and `force=false`, so a field another manager owns is never taken over (the
 * API answers 409 Conflict and routeguard leaves the Service alone). Every call is bounded by
 * `timeoutMs` so that admission never waits on a slow API server.
 */
import * as k8s from '@kubernetes/client-node'
import { apiStatus } from '../cluster/client.js'
import type { K8sObject } from '../model/object.js'
import { MANAGER } from './subsets.js'

export interface ServiceWriter {
  /** @throws on API errors (RBAC, conflict, timeout) */
  apply(service: K8sObject): Promise<void>
  /** Deletes; a Service already gone is fine. @throws on other API errors */
  remove(namespace: string, name: string): Promise<void>
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer from the API server within ${ms} ms`)), ms)
    }),
  ])
}

export class KubeServiceWriter implements ServiceWriter {
  private readonly core: k8s.CoreV1Api

  constructor(
    kc: k8s.KubeConfig,
    private readonly timeoutMs = 2000,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api)
  }

  async apply(service: K8sObject): Promise<void> {
    const name = service.metadata!.name!
    const namespace = service.metadata!.namespace!
    await bounded(
      this.core.patchNamespacedService(
        { name, namespace, body: service, fieldManager: MANAGER, force: false },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
      this.timeoutMs,
      `apply Service ${namespace}/${name}`,
    )
  }

  async remove(namespace: string, name: string): Promise<void> {
    try {
      await bounded(this.core.deleteNamespacedService({ name, namespace }), this.timeoutMs, `delete Service ${namespace}/${name}`)
    } catch (e) {
      if (apiStatus(e) !== 404) throw e
    }
  }
}
