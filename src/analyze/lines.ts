/**
 * The line of a finding's field, as istioctl reports it (`reviews.yaml:12` is the line of
 * `spec.http[0].route[0]`, not of the document). The loader keeps only the line where each object
 * starts (js-yaml is fast and knows no positions); for the findings that have a field path, the
 * file is parsed once more with `yaml`, which keeps node ranges, and the path is walked from the
 * object's node: as far as it exists, so a field the rule names but the object lacks gives the
 * line of its nearest parent.
 */
import { readFileSync } from 'node:fs'
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml'
import type { SourcedFinding } from './analyze.js'

/**
 * Splits a field path (`spec.http[1].match[0]`, `metadata.annotations["a.b/c"]`) into keys and
 * indexes. @returns [] for an empty path
 */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = []
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1])
    else if (m[2] !== undefined) out.push(Number(m[2]))
    else out.push(m[3]!.replace(/\\(.)/g, '$1'))
  }
  return out
}

interface Parsed {
  lc: LineCounter
  /** object nodes (documents, and a List's items) by the line they start on */
  objects: Map<number, Node>
}

function parse(text: string): Parsed {
  const lc = new LineCounter()
  const objects = new Map<number, Node>()
  for (const doc of parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false })) {
    const root = doc.contents
    if (!isMap(root) || !root.range) continue
    objects.set(lc.linePos(root.range[0]).line, root)
    const items = root.get('items', true)
    if (isSeq(items)) for (const item of items.items) if (isMap(item) && item.range) objects.set(lc.linePos(item.range[0]).line, item)
  }
  return { lc, objects }
}

/** The 1-based line of `path` under the object node, or of its deepest existing ancestor. */
function lineOf(p: Parsed, node: Node, segments: (string | number)[]): number {
  let line = p.lc.linePos(node.range![0]).line
  let cur: unknown = node
  for (const s of segments) {
    if (typeof s === 'number' && isSeq(cur)) {
      const next = cur.items[s] as Node | undefined
      if (!next?.range) break
      line = p.lc.linePos(next.range[0]).line
      cur = next
    } else if (typeof s === 'string' && isMap(cur)) {
      const pair = cur.items.find((i) => isScalar(i.key) && String(i.key.value) === s)
      if (!pair) break
      const key = pair.key as Node
      if (key.range) line = p.lc.linePos(key.range[0]).line
      cur = pair.value
    } else break
  }
  return line
}

/**
 * Findings (in the same order) with their `source.line` moved to the line of their field. JSON files are left as they
 * are (one line, as the loader gives them). Files that cannot be read again keep the object's line.
 * @param texts file contents already at hand (standard input), by the name the loader gave them
 */
export function withFieldLines(findings: SourcedFinding[], texts: ReadonlyMap<string, string> = new Map()): SourcedFinding[] {
  const files = new Map<string, Parsed | undefined>()
  return findings.map((f) => {
    if (!f.source || !f.path || !f.source.line || /\.json$/i.test(f.source.file)) return f
    let p = files.get(f.source.file)
    if (!files.has(f.source.file)) {
      try {
        p = parse(texts.get(f.source.file) ?? readFileSync(f.source.file, 'utf8'))
      } catch {
        p = undefined
      }
      files.set(f.source.file, p)
    }
    const node = p?.objects.get(f.source.line)
    if (!p || !node) return f
    return { ...f, source: { ...f.source, line: lineOf(p, node, pathSegments(f.path)) } }
  })
}
