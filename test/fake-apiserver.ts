/**
 * A loopback Kubernetes API server for tests: HTTPS on 127.0.0.1 (its own CA, handed to clients
 * in the kubeconfig, bearer-token auth), speaking the parts of the
 * real protocol routeguard uses, faithfully enough that the same client code works against a
 * real cluster:
 * - discovery: `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`
 * - list with `metadata.resourceVersion` (one global, increasing resourceVersion), `limit` and
 *   `continue` pagination
 * - watch (`?watch=true&resourceVersion=N`) as chunked JSON lines: ADDED / MODIFIED / DELETED,
 *   BOOKMARK when `allowWatchBookmarks=true`, `timeoutSeconds` honoured; a resourceVersion older
 *   than the retained history gets an ERROR event with a 410 Status and the stream ends (as the
 *   real API server does after compaction)
 * - get, create (POST, 409 AlreadyExists), replace (PUT, 409 Conflict on a stale
 *   resourceVersion), delete (DeleteOptions preconditions: 409 Conflict), list with an equality
 *   `labelSelector`, and PATCH with `application/apply-patch+yaml` (server-side apply,
 *   `fieldManager` required) and `application/merge-patch+json`
 * - `dryRun=All` on writes: validated, answered, not stored
 * - content negotiation for metadata-only clients (client-go's metadata informer, routeguard's
 *   Pod watch): `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` on a
 *   list answers a `meta.k8s.io/v1` `PartialObjectMetadataList`; `as=PartialObjectMetadata` on a
 *   get or watch answers `PartialObjectMetadata` objects (bookmarks too); media ranges are tried
 *   in order, and when none can be served the answer is 406 NotAcceptable
 * Test controls: `put`/`remove` objects behind the client's back, `compact()` history,
 * `dropWatches()`, `stop()`/`start()` on the same port, `failNext()` to inject errors, `stall()`
 * to leave requests unanswered, and a log
 * of every request (method, path, query, content type).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import { generateCertificates, type CertificateBundle } from '../src/certs/certs.js'
import type { AddressInfo, Socket } from 'node:net'
import { parse as parseYaml } from 'yaml'

export interface Resource {
  group: string
  version: string
  plural: string
  kind: string
  namespaced: boolean
}

export const CORE_RESOURCES: Resource[] = [
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
]

export const ISTIO_RESOURCES: Resource[] = ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry'].map((kind) => ({
  group: 'networking.istio.io',
  version: 'v1',
  plural: `${kind.toLowerCase()}s`.replace('entrys', 'entries'),
  kind,
  namespaced: true,
}))

export const GATEWAY_API_RESOURCES: Resource[] = ['HTTPRoute', 'GRPCRoute', 'Gateway', 'ReferenceGrant', 'BackendTLSPolicy'].map((kind) => ({
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  // as the API server's default plural: a consonant and `y` → `ies` (policy → policies), else `s`
  plural: kind.toLowerCase().replace(/([^aeiou])y$/, '$1ie') + 's',
  kind,
  namespaced: true,
}))

export const POLICY_REPORT_RESOURCES: Resource[] = [
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport', namespaced: true },
]

/** Cluster-scoped, as on a real server (`routeguard certs --kubeconfig` writes their caBundle). */
export const ADMISSION_RESOURCES: Resource[] = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].map((kind) => ({
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: `${kind.toLowerCase()}s`,
  kind,
  namespaced: false,
}))

export const APIEXTENSIONS_RESOURCES: Resource[] = [{ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false }]

export const OPEN_REPORT_RESOURCES: Resource[] = [{ group: 'openreports.io', version: 'v1alpha1', plural: 'reports', kind: 'Report', namespaced: true }]

interface Obj {
  apiVersion?: string
  kind?: string
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; creationTimestamp?: string; [k: string]: unknown }
  [k: string]: unknown
}

interface HistoryEvent {
  rv: number
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  res: Resource
  obj: Obj
}

interface WatchStream {
  res: Resource
  namespace?: string
  res_: ServerResponse
  bookmarks: boolean
  /** the client asked for PartialObjectMetadata */
  metadataOnly: boolean
}

export interface RequestRecord {
  method: string
  path: string
  query: Record<string, string>
  contentType?: string
  accept?: string
  body?: unknown
}

export class FakeApiServer {
  private server: Server | undefined
  private sockets = new Set<Socket>()
  private resources: Resource[]
  private store = new Map<string, Obj>() // key: group/plural/ns/name
  private history: HistoryEvent[] = []
  private rv = 100
  private oldestRetained = 100
  private watches = new Set<WatchStream>()
  private failures: { match: (r: RequestRecord) => boolean; status: number; times: number }[] = []
  /** requests that get no answer at all while `stalled` matches them (an API server that hangs) */
  private stalled: ((r: RequestRecord) => boolean) | undefined
  readonly requests: RequestRecord[] = []
  port = 0
  /**
   * Refuse to create namespaced objects in a namespace that has no Namespace object, as the real
   * server does (404 `namespaces "x" not found`). Off by default: most tests write anywhere.
   */
  enforceNamespaces = false
  /** ms between BOOKMARK events on watches that asked for them */
  bookmarkIntervalMs = 1000
  private bookmarkTimer: NodeJS.Timeout | undefined

  constructor(resources: Resource[] = [...CORE_RESOURCES, ...ISTIO_RESOURCES, ...GATEWAY_API_RESOURCES]) {
    this.resources = resources
  }

  private readonly tls: CertificateBundle = generateCertificates({ service: 'kubernetes', namespace: 'default' })

  get url(): string {
    return `https://127.0.0.1:${this.port}`
  }

  /** A kubeconfig (object form) pointing at this server. */
  kubeconfig(): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.tls.caCert).toString('base64') } }],
      users: [{ name: 'tester', user: { token: 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester' } }],
      'current-context': 'fake',
    }
  }

  async start(port = this.port): Promise<void> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => void this.handle(req, res))
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.bookmarkIntervalMs)
    this.bookmarkTimer.unref()
  }

  /** Stops listening and cuts every connection (watches end abruptly, as when a server dies). */
  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer)
    for (const w of this.watches) w.res_.destroy()
    this.watches.clear()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = undefined
  }

  /** Adds a served resource (a CRD installed later). */
  serve(...resources: Resource[]): void {
    this.resources.push(...resources)
  }

  private held: HistoryEvent[] | undefined

  /**
   * Holds watch events back (writes are stored and answered at once; watchers see nothing) until
   * `releaseWatchEvents()`: the delay between etcd and an informer, made as long as a test needs.
   */
  holdWatchEvents(): void {
    this.held ??= []
  }

  /** Sends the held watch events, in order, and stops holding. */
  releaseWatchEvents(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const e of held) this.deliver(e)
  }

  /** Ends every open watch cleanly (the client should re-watch from its last resourceVersion). */
  dropWatches(): void {
    for (const w of this.watches) w.res_.end()
    this.watches.clear()
  }

  /** Forgets history: watches from older resourceVersions get 410 Gone. Open watches are ended. */
  compact(): void {
    this.history = []
    this.oldestRetained = this.rv
    for (const w of this.watches) {
      this.writeEvent(w, { type: 'ERROR', object: gone(this.rv) })
      w.res_.end()
    }
    this.watches.clear()
  }

  /** The next `times` requests matching `match` get HTTP `status`. */
  failNext(match: (r: RequestRecord) => boolean, status = 500, times = 1): void {
    this.failures.push({ match, status, times })
  }

  /** From now on, requests `match` selects are never answered (undefined: answer everything again). */
  stall(match: ((r: RequestRecord) => boolean) | undefined): void {
    this.stalled = match
  }

  /** Creates or replaces an object as another client would (events go to watchers). */
  put(obj: Obj): Obj {
    const res = this.resourceOf(obj)
    return this.write(res, structuredClone(obj), false)
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const res = this.resources.find((r) => gv(r) === apiVersion && r.kind === kind)!
    return this.del(res, namespace, name)
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const res = this.resources.find((r) => gv(r) === apiVersion && r.kind === kind)
    return res ? this.store.get(key(res, namespace, name)) : undefined
  }

  list(group: string, plural: string): Obj[] {
    return [...this.store.entries()].filter(([k]) => k.startsWith(`${group}/${plural}/`)).map(([, o]) => o)
  }

  /** Adds many objects quickly without per-object events (a pre-existing cluster). */
  seed(objs: Obj[]): void {
    for (const o of objs) {
      const res = this.resourceOf(o)
      this.rv++
      const stored = { ...o, metadata: { ...o.metadata, resourceVersion: String(this.rv), uid: o.metadata.uid ?? `uid-${this.rv}`, creationTimestamp: o.metadata.creationTimestamp ?? new Date().toISOString() } }
      this.store.set(key(res, stored.metadata.namespace, stored.metadata.name), stored)
    }
    this.oldestRetained = this.rv
  }

  private resourceOf(obj: Obj): Resource {
    const res = this.resources.find((r) => gv(r) === obj.apiVersion && r.kind === obj.kind)
    if (!res) throw new Error(`fake apiserver: ${obj.apiVersion} ${obj.kind} not served`)
    return res
  }

  private write(res: Resource, obj: Obj, dryRun: boolean): Obj {
    const k = key(res, obj.metadata.namespace, obj.metadata.name)
    const old = this.store.get(k)
    const rv = dryRun ? this.rv : ++this.rv
    const stored: Obj = {
      ...obj,
      apiVersion: gv(res),
      kind: res.kind,
      metadata: {
        ...obj.metadata,
        resourceVersion: String(rv),
        uid: old?.metadata.uid ?? obj.metadata.uid ?? `uid-${rv}`,
        creationTimestamp: old?.metadata.creationTimestamp ?? obj.metadata.creationTimestamp ?? new Date().toISOString(),
      },
    }
    if (dryRun) return stored
    this.store.set(k, stored)
    this.emit({ rv, type: old ? 'MODIFIED' : 'ADDED', res, obj: stored })
    return stored
  }

  private del(res: Resource, namespace: string | undefined, name: string): boolean {
    const k = key(res, namespace, name)
    const old = this.store.get(k)
    if (!old) return false
    this.store.delete(k)
    const rv = ++this.rv
    this.emit({ rv, type: 'DELETED', res, obj: { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } } })
    return true
  }

  private emit(e: HistoryEvent): void {
    this.history.push(e)
    if (this.history.length > 10_000) {
      this.history.splice(0, 5_000)
      this.oldestRetained = this.history[0]!.rv - 1
    }
    if (this.held) this.held.push(e)
    else this.deliver(e)
  }

  private deliver(e: HistoryEvent): void {
    for (const w of this.watches) {
      if (w.res !== e.res || (w.namespace && w.namespace !== e.obj.metadata.namespace)) continue
      this.writeEvent(w, { type: e.type, object: e.obj })
    }
  }

  private writeEvent(w: WatchStream, ev: { type: string; object: unknown }): void {
    const out = w.metadataOnly && ev.type !== 'ERROR' ? { type: ev.type, object: partial(ev.object as Obj) } : ev
    if (!w.res_.writableEnded) w.res_.write(`${JSON.stringify(out)}\n`)
  }

  private sendBookmarks(): void {
    // a bookmark never runs ahead of events not yet sent
    if (this.held) return
    for (const w of this.watches) {
      if (w.bookmarks) this.writeEvent(w, { type: 'BOOKMARK', object: { apiVersion: gv(w.res), kind: w.res.kind, metadata: { resourceVersion: String(this.rv) } } })
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const query = Object.fromEntries(url.searchParams)
    const contentType = req.headers['content-type']
    let body: unknown
    if (req.method !== 'GET') {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const text = Buffer.concat(chunks).toString('utf8')
      try {
        body = text ? (contentType?.includes('yaml') ? parseYaml(text) : JSON.parse(text)) : undefined
      } catch {
        return send(res, 400, status(400, 'BadRequest', 'body is not valid JSON/YAML'))
      }
    }
    const accept = req.headers.accept
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, contentType, accept, body }
    this.requests.push(record)
    if (this.stalled?.(record)) return
    const f = this.failures.find((x) => x.times > 0 && x.match(record))
    if (f) {
      f.times--
      const reason = f.status === 403 ? 'Forbidden' : f.status === 404 ? 'NotFound' : 'InternalError'
      return send(res, f.status, status(f.status, reason, `injected failure (${reason})`))
    }
    if (req.headers.authorization !== 'Bearer fake-token') return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'))
    const p = url.pathname.split('/').filter(Boolean)
    // discovery
    if (url.pathname === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'] })
    if (url.pathname === '/apis') return send(res, 200, this.groupList())
    if (p[0] === 'api' && p.length === 2) return send(res, 200, this.resourceList('', p[1]!))
    if (p[0] === 'apis' && p.length === 2) {
      const g = this.groupList().groups.find((x) => x.name === p[1])
      return g ? send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g }) : send(res, 404, status(404, 'NotFound', 'not found'))
    }
    if (p[0] === 'apis' && p.length === 3) {
      const list = this.resourceList(p[1]!, p[2]!)
      return list.resources.length ? send(res, 200, list) : send(res, 404, status(404, 'NotFound', 'not found'))
    }
    // resources: /api/v1/[namespaces/ns/]plural[/name]  /apis/g/v/[namespaces/ns/]plural[/name]
    const [group, version, rest] = p[0] === 'api' ? ['', p[1]!, p.slice(2)] : [p[1]!, p[2]!, p.slice(3)]
    let namespace: string | undefined
    let plural: string
    let name: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]
      plural = rest[2]!
      name = rest[3]
    } else {
      plural = rest[0]!
      name = rest[1]
    }
    const r = this.resources.find((x) => x.group === group && x.version === version && x.plural === plural)
    if (!r) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`))
    const dryRun = query.dryRun === 'All'
    const creates = req.method === 'POST' || (req.method === 'PATCH' && !this.store.has(key(r, namespace, name!)))
    if (this.enforceNamespaces && creates && r.namespaced && namespace && !this.store.has(`/namespaces//${namespace}`)) {
      return send(res, 404, { ...status(404, 'NotFound', `namespaces "${namespace}" not found`), details: { name: namespace, kind: 'namespaces' } })
    }
    switch (req.method) {
      case 'GET': {
        const watching = query.watch === 'true' || query.watch === '1'
        const form = negotiate(accept, !name && !watching)
        if (form === undefined) return send(res, 406, status(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/json;as=${name || watching ? 'PartialObjectMetadata' : 'PartialObjectMetadataList'};g=meta.k8s.io;v=v1`))
        if (name) {
          const o = this.store.get(key(r, namespace, name))
          if (!o) return send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`))
          return send(res, 200, form === 'metadata' ? partial(o) : o)
        }
        if (watching) return this.watch(r, namespace, query, res, form === 'metadata')
        const list = this.listResponse(r, namespace, query)
        if (form === 'metadata') {
          return send(res, 200, { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata: list.metadata, items: list.items.map(partial) }, 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')
        }
        return send(res, 200, list)
      }
      case 'POST': {
        const o = body as Obj
        // generateName: the server appends five random characters, as the real one does
        if (o?.metadata && !o.metadata.name && typeof o.metadata.generateName === 'string') o.metadata.name = `${o.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`
        if (!o?.metadata?.name) return send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'))
        o.metadata.namespace ??= namespace
        if (this.store.has(key(r, o.metadata.namespace, o.metadata.name))) return send(res, 409, status(409, 'AlreadyExists', `${plural} "${o.metadata.name}" already exists`))
        return send(res, 201, this.write(r, o, dryRun))
      }
      case 'PUT': {
        const o = body as Obj
        const old = this.store.get(key(r, namespace, name!))
        if (!old) return send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`))
        if (o.metadata.resourceVersion && o.metadata.resourceVersion !== old.metadata.resourceVersion) {
          return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`))
        }
        o.metadata.namespace ??= namespace
        return send(res, 200, this.write(r, o, dryRun))
      }
      case 'PATCH': {
        const old = this.store.get(key(r, namespace, name!))
        if (contentType?.startsWith('application/apply-patch')) {
          if (!query.fieldManager) return send(res, 422, status(422, 'Invalid', 'fieldManager is required for apply requests'))
          const o = body as Obj
          const merged = { ...(old ?? {}), ...o, metadata: { ...(old?.metadata ?? {}), ...o.metadata, namespace, name: name! } } as Obj
          merged.metadata.managedFields = [{ manager: query.fieldManager, operation: 'Apply' }]
          return send(res, old ? 200 : 201, this.write(r, merged, dryRun))
        }
        if (contentType?.startsWith('application/merge-patch+json')) {
          if (!old) return send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`))
          return send(res, 200, this.write(r, mergePatch(old, body) as Obj, dryRun))
        }
        return send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`))
      }
      case 'DELETE': {
        // DeleteOptions.preconditions, as the real server checks them: 409 Conflict on a mismatch
        const pre = (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)?.preconditions
        const current = this.store.get(key(r, namespace, name!))
        if (current && pre && ((pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) || (pre.uid && pre.uid !== current.metadata.uid))) {
          return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the precondition does not hold`))
        }
      }
        if (dryRun) return send(res, this.store.has(key(r, namespace, name!)) ? 200 : 404, status(200, '', ''))
        return this.del(r, namespace, name!) ? send(res, 200, status(200, '', 'deleted')) : send(res, 404, status(404, 'NotFound', `${plural} "${name}" not found`))
      default:
        return send(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'))
    }
  }

  private listResponse(r: Resource, namespace: string | undefined, query: Record<string, string>) {
    // labelSelector: equality terms (`a=b,c=d`), as the real server reads them
    const terms = (query.labelSelector ?? '').split(',').filter(Boolean).map((t) => t.split('='))
    let items = [...this.store.entries()]
      .filter(([k, o]) => k.startsWith(`${r.group}/${r.plural}/`) && (!namespace || o.metadata.namespace === namespace))
      .map(([, o]) => o)
      .filter((o) => terms.every(([k, v]) => (o.metadata as { labels?: Record<string, string> }).labels?.[k!] === v))
    const limit = Number(query.limit) || 0
    const start = query.continue ? Number(Buffer.from(query.continue, 'base64').toString()) : 0
    let cont: string | undefined
    if (limit > 0) {
      if (start + limit < items.length) cont = Buffer.from(String(start + limit)).toString('base64')
      items = items.slice(start, start + limit)
    }
    return { apiVersion: gv(r), kind: `${r.kind}List`, metadata: { resourceVersion: String(this.rv), ...(cont ? { continue: cont } : {}) }, items }
  }

  private watch(r: Resource, namespace: string | undefined, query: Record<string, string>, res: ServerResponse, metadataOnly = false): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    const w: WatchStream = { res: r, namespace, res_: res, bookmarks: query.allowWatchBookmarks === 'true', metadataOnly }
    const from = Number(query.resourceVersion || 0)
    if (query.resourceVersion && from < this.oldestRetained) {
      this.writeEvent(w, { type: 'ERROR', object: gone(from) })
      res.end()
      return
    }
    if (!query.resourceVersion || query.resourceVersion === '0') {
      // "any": start with synthetic ADDED events for everything, as the real server does
      for (const o of this.listResponse(r, namespace, {}).items) this.writeEvent(w, { type: 'ADDED', object: o })
    } else {
      for (const e of this.history) {
        if (e.rv > from && e.res === r && (!namespace || e.obj.metadata.namespace === namespace)) this.writeEvent(w, { type: e.type, object: e.obj })
      }
    }
    this.watches.add(w)
    const timeout = Number(query.timeoutSeconds)
    let timer: NodeJS.Timeout | undefined
    if (timeout > 0) {
      timer = setTimeout(() => {
        this.watches.delete(w)
        res.end()
      }, timeout * 1000)
    }
    res.on('close', () => {
      clearTimeout(timer)
      this.watches.delete(w)
    })
  }

  private groupList() {
    const groups = new Map<string, Set<string>>()
    for (const r of this.resources) {
      if (r.group === '') continue
      let s = groups.get(r.group)
      if (!s) groups.set(r.group, (s = new Set()))
      s.add(r.version)
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
      })),
    }
  }

  private resourceList(group: string, version: string) {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: this.resources
        .filter((r) => r.group === group && r.version === version)
        .map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    }
  }
}

function gv(r: Resource): string {
  return r.group ? `${r.group}/${r.version}` : r.version
}

function key(r: Resource, namespace: string | undefined, name: string): string {
  return `${r.group}/${r.plural}/${r.namespaced ? (namespace ?? '') : ''}/${name}`
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, code }
}

function gone(rv: number) {
  return status(410, 'Expired', `too old resource version: ${rv}`)
}

function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** An object as `meta.k8s.io/v1` PartialObjectMetadata: its metadata and nothing else. */
function partial(o: Obj): Obj {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: o.metadata }
}

/**
 * The form an `Accept` header asks for, trying its media ranges in order as the API server does:
 * `full` for `application/json` or a wildcard without `as`; `metadata` for
 * `as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1` (the List form for lists, the other for a
 * get or watch); undefined when no range can be served (406).
 */
function negotiate(accept: string | undefined, list: boolean): 'full' | 'metadata' | undefined {
  if (!accept) return 'full'
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((x) => x.trim())
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue
    const p = Object.fromEntries(params.map((x) => x.split('=').map((y) => y.trim()) as [string, string]))
    if (p.as === undefined) return 'full'
    if (p.as === (list ? 'PartialObjectMetadataList' : 'PartialObjectMetadata') && p.g === 'meta.k8s.io' && p.v === 'v1') return 'metadata'
  }
  return undefined
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {}
  for (const [k, v] of Object.entries(patch as object)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}
