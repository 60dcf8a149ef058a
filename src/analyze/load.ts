/**
 * Reads Kubernetes objects from YAML or JSON files and folders: multi-document YAML, `List`
 * kinds (`v1/List`, `*List`), each object with the file and line where it starts. A broken
 * document is reported with its file:line and the other documents are still read. YAML is read
 * once, with `yaml` (YAML 1.2 core schema; `%YAML 1.1` documents as 1.1): each object keeps its
 * node, so the line of any field a finding names is found without parsing again (`lines.ts`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml'
import { idOf, type K8sObject } from '../model/object.js'

export interface Source {
  file: string
  /** 1-based line where the object starts */
  line: number
}

export interface LoadedObject {
  object: K8sObject
  source: Source
  /** the object's YAML node and its file's line index (YAML input only): field lines, `lines.ts` */
  yaml?: YamlNode
}

/** Where an object's fields are in its file: its mapping node (with ranges) and the file's line index. */
export interface YamlNode {
  node: Node
  lc: LineCounter
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

/** Files under each path (folders recursively, `.yaml`/`.yml`/`.json` in any case), sorted. Unreadable paths are problems. */
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
    } else if (top || EXTENSIONS.has(extname(p).toLowerCase())) {
      out.push(p)
    }
  }
  for (const p of paths) walk(p, true)
  return out
}

/** Parses one file's text. JSON files take a fast path (objects then carry line 1). */
export function parseObjects(text: string, file: string): LoadResult {
  if (extname(file).toLowerCase() === '.json') {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined // fall through to the YAML parser, which says where the error is
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return fromJSON(value as K8sObject, file)
  }
  return parseYaml(text, file)
}

/**
 * Parses YAML text with `yaml`: error positions, List item lines, an alias limit (100 aliases per
 * document), duplicate keys read as the last one (as `kubectl` does). Never throws.
 */
export function parseYaml(text: string, file: string): LoadResult {
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
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 100 }) as unknown
    } catch (e) {
      // an alias with no anchor, or more aliases than the limit: `yaml` says so only here
      problems.push({ source: { file, line }, message: (e as Error).message.split('\n')[0]! })
      continue
    }
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
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as K8sObject, source: { file, line: itemLine }, ...(isMap(node) ? { yaml: { node, lc } } : {}) })
        else problems.push({ source: { file, line: itemLine }, message: 'List item is not a Kubernetes object' })
      })
      continue
    }
    objects.push({ object: obj, source: { file, line }, yaml: { node: contents, lc } })
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

/** Joins parse results (and earlier problems), giving namespaced objects without one `defaultNamespace`. */
/**
 * Objects defined more than once in the input (same group, kind, namespace and name), one problem
 * each naming every place: which version a cluster would keep depends on the apply order, so
 * `analyze`, `convert` and `trace` refuse to guess. Run after `merge` (namespaces defaulted).
 */
export function duplicateProblems(objects: LoadedObject[]): LoadProblem[] {
  const seen = new Map<string, LoadedObject[]>()
  for (const o of objects) {
    const id = idOf(o.object)
    const list = seen.get(id)
    if (list) list.push(o)
    else seen.set(id, [o])
  }
  const out: LoadProblem[] = []
  for (const list of seen.values()) {
    if (list.length < 2) continue
    const o = list[0]!.object
    const ns = o.metadata?.namespace
    out.push({ source: list[1]!.source, message: `${String(o.kind)} ${ns ? `${ns}/` : ''}${o.metadata?.name ?? ''} is defined ${list.length} times: ${list.map((x) => `${x.source.file}:${x.source.line}`).join(', ')}; keep one` })
  }
  return out
}

export function merge(results: LoadResult[], problems: LoadProblem[], defaultNamespace: string): LoadResult {
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
