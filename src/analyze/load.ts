/**
 * Reads Kubernetes objects from YAML or JSON files and folders: multi-document YAML, `List`
 * kinds (`v1/List`, `*List`), each object with the file and line where it starts. A broken
 * document is reported with its file:line and the other documents are still read.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import jsyaml from 'js-yaml'
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
  return parseFast(text, file) ?? parseExact(text, file)
}

const READ_DIFFERENTLY = /[-+]\.\d|0b[01]|!!|^%YAML/m

/** The parts of js-yaml's parser state its listener sees that the typings leave out. */
interface ParserState extends jsyaml.State {
  /** nesting of the node being read: 1 for a document's root */
  depth?: number
  /** the anchor (`&name`) of the node just read, or null */
  anchor?: string | null
}

/**
 * The fast path, with js-yaml (YAML 1.2 core schema, duplicate keys: the last one wins, as in
 * `parseExact`): about ten times faster than `yaml` on manifests, which is most of `analyze`'s
 * time. It takes only plain files; it returns undefined, and `parseExact` reads the file, when:
 * - js-yaml cannot read it (`parseExact` says where, in `yaml`'s words);
 * - a node has an anchor (aliases are expanded under `yaml`'s alias limit only);
 * - the documents (or a List's items) and their first lines do not pair up;
 * - the text holds something the two read differently: `-.5` and `+.5` (js-yaml: strings,
 *   `yaml` and YAML 1.2: numbers), `0b101` (js-yaml: 5, YAML 1.2 core: a string), an explicit
 *   `!!` tag (`!!float 1`: js-yaml 1, `yaml` "1"), a `%YAML` directive (`yaml` honours 1.1,
 *   js-yaml does not). The check is on the raw text, so a quoted or commented one also sends
 *   the file to `parseExact`.
 * Tests hold the two paths to the same objects and lines on every manifest in ../shared
 * (conformance) and on scalar spellings (npm test).
 */
export function parseFast(text: string, file: string): LoadResult | undefined {
  if (READ_DIFFERENTLY.test(text)) return undefined
  const docs: unknown[] = []
  const lines: number[] = []
  // first lines of the entries of each sequence one level down a document (a List's items)
  const entryLines = new Map<unknown, number[]>()
  let entries: number[] = []
  let anchored = false
  const listener = (event: jsyaml.EventType, state: ParserState) => {
    if (event === 'open') {
      if (state.depth === 1) lines.push(state.line + 1)
      else if (state.depth === 2) entries = []
      else if (state.depth === 3) entries.push(state.line + 1)
    } else {
      if (state.anchor !== null) anchored = true
      if (state.depth === 2 && Array.isArray(state.result)) entryLines.set(state.result, entries)
    }
  }
  try {
    jsyaml.loadAll(text, (doc) => docs.push(doc), { schema: jsyaml.CORE_SCHEMA, json: true, listener, filename: file })
  } catch {
    return undefined
  }
  if (anchored || lines.length !== docs.length) return undefined
  const objects: LoadedObject[] = []
  const problems: LoadProblem[] = []
  for (let i = 0; i < docs.length; i++) {
    const value = docs[i]
    if (value === null || value === undefined) continue // an empty document
    const line = lines[i]!
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ source: { file, line }, message: 'document is not a Kubernetes object (a mapping)' })
      continue
    }
    const obj = value as K8sObject
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      const itemLines = entryLines.get(obj.items)
      if (itemLines?.length !== obj.items.length) return undefined
      obj.items.forEach((item: unknown, k: number) => {
        const source = { file, line: itemLines[k]! }
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as K8sObject, source })
        else problems.push({ source, message: 'List item is not a Kubernetes object' })
      })
      continue
    }
    objects.push({ object: obj, source: { file, line } })
  }
  return { objects, problems }
}

/** The exact path, with `yaml`: error positions, List item lines, an alias limit. */
export function parseExact(text: string, file: string): LoadResult {
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
