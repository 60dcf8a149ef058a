/**
 * Talking to the API server through @kubernetes/client-node: loading a kubeconfig (file or
 * in-cluster), discovering which of the watched kinds are served and at which version, and
 * listing a kind (paginated, stripped).
 */
import { readFileSync } from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as k8s from '@kubernetes/client-node'
import type { K8sObject } from '../model/object.js'
import { ACCEPT_METADATA_LIST, apiVersion, collectionPath, type WatchedKind, WATCHED_KINDS } from './kinds.js'
import { strip } from './strip.js'

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** The HTTP status of a client-node API error (`ApiException.code`), or undefined. */
export function apiStatus(e: unknown): number | undefined {
  const c = (e as { code?: unknown; statusCode?: unknown } | undefined)?.code ?? (e as { statusCode?: unknown } | undefined)?.statusCode
  return typeof c === 'number' ? c : undefined
}

/**
 * One line for logs and warnings from a client-node API error: `HTTP <status>: <message>`, the
 * message taken from the Kubernetes Status in the body (a JSON string or an object) when there is
 * one, else the error's own; first line only, at most 512 characters.
 */
export function apiError(e: unknown): string {
  const status = apiStatus(e)
  const body = (e as { body?: unknown } | undefined)?.body
  let message = (e as Error | undefined)?.message ?? String(e)
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body
    const m = (parsed as { message?: unknown } | undefined)?.message
    if (typeof m === 'string') message = m
  } catch {
    // not JSON: the client's message stands
  }
  return `${status ? `HTTP ${status}: ` : ''}${message.split('\n')[0]}`.slice(0, 512)
}

/**
 * A kubeconfig from `path`, else the in-cluster config when running in a Pod, else undefined
 * (standalone mode). Inside a Pod (`KUBERNETES_SERVICE_HOST` set) the service-account token
 * must be readable: serving in standalone mode there would admit everything against an empty
 * view, so that is refused unless `standalone` says it is meant.
 * @throws when `path` cannot be read or parsed, or in a Pod without a usable token (the reason,
 *   and what to do)
 */
export function loadKubeConfig(path?: string, o: { standalone?: boolean; tokenPath?: string } = {}): k8s.KubeConfig | undefined {
  const kc = new k8s.KubeConfig()
  if (path) {
    kc.loadFromFile(path)
    return kc
  }
  if (o.standalone || !process.env.KUBERNETES_SERVICE_HOST) return undefined
  const token = o.tokenPath ?? SA_TOKEN
  let problem: string | undefined
  try {
    if (readFileSync(token, 'utf8').trim() === '') problem = 'it is empty'
  } catch (e) {
    problem = `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
  }
  if (problem) {
    throw new Error(
      `running in a Pod (KUBERNETES_SERVICE_HOST is set) but the service-account token ${token}: ${problem}; ` +
        'mount one (automountServiceAccountToken: true, the routeguard ServiceAccount of manifests/base/rbac.yaml), pass --kubeconfig, or pass --standalone to serve from --state alone',
    )
  }
  kc.loadFromCluster()
  return kc
}

/** A watched kind at the version the API server serves. */
export interface ServedKind extends WatchedKind {
  version: string
  apiVersion: string
}

/**
 * Which watched kinds are served, each at its most preferred served version.
 * @throws when the API server cannot be reached (the caller retries).
 */
export async function discover(kc: k8s.KubeConfig, kinds: readonly WatchedKind[] = WATCHED_KINDS): Promise<{ served: ServedKind[]; absent: WatchedKind[] }> {
  const apis = kc.makeApiClient(k8s.ApisApi)
  const custom = kc.makeApiClient(k8s.CustomObjectsApi)
  const groups = await apis.getAPIVersions()
  const resourcesOf = new Map<string, Promise<Set<string>>>()
  const resources = (group: string, version: string) => {
    const gv = `${group}/${version}`
    let p = resourcesOf.get(gv)
    if (!p) {
      p = custom.getAPIResources({ group, version }).then(
        (l) => new Set(l.resources.map((r) => r.name)),
        () => new Set<string>(),
      )
      resourcesOf.set(gv, p)
    }
    return p
  }
  const served: ServedKind[] = []
  const absent: WatchedKind[] = []
  for (const k of kinds) {
    if (k.group === '') {
      served.push({ ...k, version: 'v1', apiVersion: 'v1' })
      continue
    }
    const g = groups.groups.find((x) => x.name === k.group)
    const offered = new Set(g?.versions.map((v) => v.version) ?? [])
    let found: string | undefined
    for (const v of k.versions) {
      if (offered.has(v) && (await resources(k.group, v)).has(k.plural)) {
        found = v
        break
      }
    }
    if (found) served.push({ ...k, version: found, apiVersion: apiVersion(k.group, found) })
    else absent.push(k)
  }
  return { served, absent }
}

export interface StrippedList {
  metadata: { resourceVersion?: string }
  items: K8sObject[]
}

/**
 * Lists every object of a kind across namespaces, `pageSize` at a time (one consistent
 * snapshot: the continue token pins the first page's resourceVersion), stripped for the view.
 */
export async function listKind(kc: k8s.KubeConfig, k: ServedKind, pageSize = 500): Promise<StrippedList> {
  const items: K8sObject[] = []
  let cont: string | undefined
  let resourceVersion: string | undefined
  const custom = kc.makeApiClient(k8s.CustomObjectsApi)
  const core = kc.makeApiClient(k8s.CoreV1Api)
  do {
    let page: { metadata?: { resourceVersion?: string; _continue?: string; continue?: string }; items: K8sObject[] }
    if (k.metadataOnly) {
      const query: Record<string, string> = { limit: String(pageSize) }
      if (cont) query.continue = cont
      page = (await getJSON(kc, collectionPath(k.group, k.version, k.plural), query, ACCEPT_METADATA_LIST)) as typeof page
    } else if (k.group === '' && k.plural === 'services') {
      page = (await core.listServiceForAllNamespaces({ limit: pageSize, _continue: cont })) as unknown as typeof page
    } else if (k.group === '' && k.plural === 'namespaces') {
      page = (await core.listNamespace({ limit: pageSize, _continue: cont })) as unknown as typeof page
    } else {
      page = (await custom.listClusterCustomObject({ group: k.group, version: k.version, plural: k.plural, limit: pageSize, _continue: cont })) as typeof page
    }
    const typed = k.group === '' && !k.metadataOnly // core kinds come through the typed client
    for (const o of page.items ?? []) items.push(strip(o, k.apiVersion, k.kind, typed, k.metadataOnly))
    resourceVersion ??= page.metadata?.resourceVersion
    cont = page.metadata?._continue ?? page.metadata?.continue
  } while (cont)
  return { metadata: { resourceVersion }, items }
}

/**
 * One consistent-enough snapshot of every served watched kind, for `analyze --kubeconfig`: each
 * kind listed once (no watch), stripped. Kinds whose CRD is absent are skipped.
 */
export async function snapshot(kc: k8s.KubeConfig): Promise<{ objects: K8sObject[]; kinds: ServedKind[] }> {
  const { served } = await discover(kc)
  const lists = await Promise.all(served.map((k) => listKind(kc, k)))
  return { objects: lists.flatMap((l) => l.items), kinds: served }
}

/** Longest a single list page may take (ms) before the request is abandoned and the informer retries. */
const REQUEST_TIMEOUT_MS = 60_000

/**
 * GET `path` with `query` and an `Accept` header of our choosing (the typed clients fix theirs),
 * authenticated and TLS-configured from the kubeconfig as client-node's own requests are.
 * @returns the parsed JSON body of a 200 answer
 * @throws an Error with `code` (HTTP status) and `body` (the Status text) for any other status,
 *   or the transport error (readable with `apiError`)
 */
export async function getJSON(kc: k8s.KubeConfig, path: string, query: Record<string, string>, accept: string): Promise<unknown> {
  return requestJSON(kc, 'GET', path, { query, accept, timeoutMs: REQUEST_TIMEOUT_MS })
}

/**
 * One JSON request to the API server, authenticated and TLS-configured from the kubeconfig.
 * `body` is sent as JSON with a Content-Length (Node sends a DELETE body neither chunked nor with
 * a length by default); the request is cut off after `timeoutMs` (ms, the whole exchange).
 * @returns the parsed JSON body of a 2xx answer (undefined when empty)
 * @throws an Error with `code` (HTTP status) and `body` (the Status text) for any other status;
 *   one with `timedOut: true` past `timeoutMs`; the transport error otherwise (all readable with `apiError`)
 */
export async function requestJSON(
  kc: k8s.KubeConfig,
  method: string,
  path: string,
  o: { query?: Record<string, string>; body?: unknown; accept?: string; timeoutMs: number; agent?: https.Agent },
): Promise<unknown> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new Error('the kubeconfig has no current cluster')
  const url = new URL(cluster.server + path)
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v)
  const payload = o.body !== undefined ? Buffer.from(JSON.stringify(o.body)) : undefined
  const opts: https.RequestOptions = { method, headers: { Accept: o.accept ?? 'application/json', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}) } }
  await kc.applyToHTTPSOptions(opts)
  if (o.agent && url.protocol === 'https:') opts.agent = o.agent
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        clearTimeout(timer)
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        if (status < 200 || status >= 300) return reject(Object.assign(new Error(`${method} ${path}: HTTP ${status}`), { code: status, body: text }))
        try {
          resolve(text ? JSON.parse(text) : undefined)
        } catch (e) {
          reject(e)
        }
      })
    })
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`${method} ${path}: no answer in ${o.timeoutMs} ms`), { timedOut: true })), o.timeoutMs)
    req.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    req.end(payload)
  })
}

/**
 * The cluster's Gateway API CustomResourceDefinitions (group `gateway.networking.k8s.io`), for
 * `convert --kubeconfig`: the versions the target serves and the schemas its output must pass.
 * @throws when the API server cannot be reached or refuses the list (apiextensions.k8s.io)
 */
export async function gatewayApiCrds(kc: k8s.KubeConfig): Promise<K8sObject[]> {
  // raw JSON: client-node's typed models rename the schema's `x-kubernetes-*` keys, which the
  // validation reads as written
  let list: { items?: K8sObject[] }
  try {
    list = (await getJSON(kc, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {}, 'application/json')) as { items?: K8sObject[] }
  } catch (e) {
    throw new Error(`listing CustomResourceDefinitions: ${apiError(e)}`)
  }
  return (list.items ?? []).filter((c) => (c.spec as { group?: unknown } | undefined)?.group === 'gateway.networking.k8s.io').map((c) => ({ ...c, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }))
}
