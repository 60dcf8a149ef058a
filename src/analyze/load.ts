/**
 * Reads Kubernetes objects from YAML or JSON files and folders: multi-document YAML, `List`
 * kinds (`v1/List`, `*List`), each object with the file and line where it starts. A broken
 * document is reported with its file:line and the other documents are still read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml'
import type { K8sObject } from '../model/object.js'

export interface Source {
  file: string
  /** 1-based line where the object starts */
  line: number
}

export interface LoadedObject {
  object: K8sObject
  source: Source
}

export interface LoadProblem {
  source: Source
  message: string
}

export interface LoadResult {
  objects: LoadedObject[]
  problems: LoadProblem[]
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/** Files under each path (folders recursively, `.yaml`/`.yml`/`.json`), sorted. Unreadable paths are problems. */
export function listFiles(paths: string[], problems: LoadProblem[]): string[] {
  const out: string[] = []
  const walk = (p: string, top: boolean) => {
    let st
    try {
      st = statSync(p)
    } catch (e) {
      problems.push({ source: { file: p, line: 0 }, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` })
      return
    }
    if (st.isDirectory()) {
      for (const entry of readdirSync(p).sort()) if (!entry.startsWith('.')) walk(join(p, entry), false)
    } else if (top || EXTENSIONS.has(extname(p))) {
      out.push(p)
    }
  }
  for (const p of paths) walk(p, true)
  return out
}

/** Parses one file's text. JSON files take a fast path (objects then carry line 1). */
export function parseObjects(text: string, file: string): LoadResult {
  if (extname(file) === '.json') {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined // fall through to the YAML parser, which says where the error is
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return fromJSON(value as K8sObject, file)
  }
  const lc = new LineCounter()
  const objects: LoadedObject[] = []
  const problems: LoadProblem[] = []
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const doc of list) {
    if (doc.errors.length) {
      for (const err of doc.errors) {
        const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line
        problems.push({ source: { file, line }, message: err.message.split('\n')[0]! })
      }
      continue
    }
    const contents = doc.contents as Node | null
    if (contents === null || contents === undefined) continue
    const line = contents.range ? lc.linePos(contents.range[0]).line : 1
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown
    if (value === null || value === undefined) continue // an empty document (`---` with nothing after it)
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !isMap(contents)) {
      problems.push({ source: { file, line }, message: 'document is not a Kubernetes object (a mapping)' })
      continue
    }
    const obj = value as K8sObject
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      const itemsNode = contents.get('items', true)
      obj.items.forEach((item: unknown, i: number) => {
        const node = isSeq(itemsNode) ? (itemsNode.items[i] as Node | undefined) : undefined
        const itemLine = node?.range ? lc.linePos(node.range[0]).line : line
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as K8sObject, source: { file, line: itemLine } })
        else problems.push({ source: { file, line: itemLine }, message: 'List item is not a Kubernetes object' })
      })
      continue
    }
    objects.push({ object: obj, source: { file, line } })
  }
  return { objects, problems }
}

function fromJSON(obj: K8sObject, file: string): LoadResult {
  const source = { file, line: 1 }
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    const objects: LoadedObject[] = []
    const problems: LoadProblem[] = []
    for (const item of obj.items as unknown[]) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as K8sObject, source })
      else problems.push({ source, message: 'List item is not a Kubernetes object' })
    }
    return { objects, problems }
  }
  return { objects: [{ object: obj, source }], problems: [] }
}

/** Kinds without a namespace: they never get the default namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'GatewayClass', 'StorageClass', 'PriorityClass',
])

/**
 * Reads every object under `paths`. Never throws for bad files: they become problems.
 * @param defaultNamespace given to namespaced objects without `metadata.namespace`, as
 *   `kubectl apply` would (`''` keeps them namespace-less, as Istio's analyzer harness does)
 */
export function loadObjects(paths: string[], defaultNamespace = ''): LoadResult {
  const problems: LoadProblem[] = []
  const results = listFiles(paths, problems).map(readAndParse)
  return merge(results, problems, defaultNamespace)
}

/** Reads and parses one file; a file that cannot be read is a problem. */
export function readAndParse(file: string): LoadResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return { objects: [], problems: [{ source: { file, line: 0 }, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] }
  }
  return parseObjects(text, file)
}

function merge(results: LoadResult[], problems: LoadProblem[], defaultNamespace: string): LoadResult {
  const objects: LoadedObject[] = []
  for (const r of results) {
    if (defaultNamespace) {
      for (const { object } of r.objects) {
        const meta = object.metadata
        if (meta && typeof meta === 'object' && !meta.namespace && !CLUSTER_SCOPED.has(String(object.kind))) meta.namespace = defaultNamespace
      }
    }
    for (const o of r.objects) objects.push(o)
    for (const p of r.problems) problems.push(p)
  }
  return { objects, problems }
}

/** Below this many bytes in all, files are parsed on the calling thread (workers cost ~50 ms to start). */
export const PARALLEL_MIN_BYTES = 1 << 20

const WORKER = new URL('./load-worker.js', import.meta.url)

/**
 * `loadObjects` with the files parsed on worker threads, one group of files per core (at most
 * 4, this thread parsing one group itself): YAML parsing is most of `analyze`'s time. Same result
 * in the same order as `loadObjects`. Falls back to this thread for small inputs, one core, when
 * the worker script is absent (running from sources), and for a group whose worker fails.
 * Never throws for bad files: as in `loadObjects`, they become problems.
 */
export async function loadObjectsInParallel(paths: string[], defaultNamespace = ''): Promise<LoadResult> {
  const problems: LoadProblem[] = []
  const files = listFiles(paths, problems)
  const sizes = files.map((f) => {
    try {
      return statSync(f).size
    } catch {
      return 0
    }
  })
  const groups = Math.min(availableParallelism(), 4, files.length)
  if (groups < 2 || sizes.reduce((a, b) => a + b, 0) < PARALLEL_MIN_BYTES || !existsSync(fileURLToPath(WORKER))) {
    return merge(files.map(readAndParse), problems, defaultNamespace)
  }
  // largest files first, each to the lightest group
  const assigned: number[][] = Array.from({ length: groups }, () => [])
  const load = new Array<number>(groups).fill(0)
  for (const i of files.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!)) {
    const g = load.indexOf(Math.min(...load))
    assigned[g]!.push(i)
    load[g]! += sizes[i]!
  }
  const results = new Array<LoadResult>(files.length)
  const inWorkers = assigned.slice(1).map(
    (group) =>
      new Promise<void>((resolve) => {
        const local = () => {
          for (const i of group) results[i] ??= readAndParse(files[i]!)
          resolve()
        }
        const worker = new Worker(WORKER, { workerData: group.map((i) => files[i]) })
        worker.once('message', (parsed: LoadResult[]) => {
          group.forEach((i, k) => (results[i] = parsed[k]!))
          resolve()
        })
        worker.once('error', local)
        worker.once('exit', local)
      }),
  )
  for (const i of assigned[0]!) results[i] = readAndParse(files[i]!)
  await Promise.all(inWorkers)
  return merge(results, problems, defaultNamespace)
}
