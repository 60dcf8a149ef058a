/**
 * The line of a finding's field, as istioctl reports it (`reviews.yaml:12` is the line of
 * `spec.http[0].route[0]`, not of the document). The loader keeps each object's YAML node (with
 * ranges); the finding's field path is walked from it as far as it exists, so a field the rule
 * names but the object lacks gives the line of its nearest parent. No file is read or parsed here.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml'
import type { SourcedFinding } from './analyze.js'
import type { LoadedObject, YamlNode } from './load.js'

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

/** The 1-based line of `segments` under the object's node, or of its deepest existing ancestor. */
export function fieldLine({ node, lc }: YamlNode, segments: (string | number)[]): number {
  let line = node.range ? lc.linePos(node.range[0]).line : 1
  let cur: unknown = node
  for (const s of segments) {
    if (typeof s === 'number' && isSeq(cur)) {
      const next = cur.items[s] as Node | undefined
      if (!next?.range) break
      line = lc.linePos(next.range[0]).line
      cur = next
    } else if (typeof s === 'string' && isMap(cur)) {
      const pair = cur.items.find((i) => isScalar(i.key) && String(i.key.value) === s)
      if (!pair) break
      const key = pair.key as Node
      if (key.range) line = lc.linePos(key.range[0]).line
      cur = pair.value
    } else break
  }
  return line
}

/** The YAML nodes of loaded objects by `file`, then line: what `withFieldLines` looks findings up in. */
export function nodesBySource(objects: readonly LoadedObject[]): Map<string, Map<number, YamlNode>> {
  const out = new Map<string, Map<number, YamlNode>>()
  for (const o of objects) {
    if (!o.yaml) continue
    let byLine = out.get(o.source.file)
    if (!byLine) out.set(o.source.file, (byLine = new Map()))
    byLine.set(o.source.line, o.yaml)
  }
  return out
}

/**
 * Findings (in the same order) with their `source.line` moved to the line of their field.
 * Findings without a path, or whose object has no YAML node (JSON input, the cluster), keep
 * the object's line.
 * @param nodes `nodesBySource` of the objects the findings are about
 */
export function withFieldLines(findings: SourcedFinding[], nodes: ReadonlyMap<string, ReadonlyMap<number, YamlNode>>): SourcedFinding[] {
  return findings.map((f) => {
    if (!f.source || !f.path || !f.source.line) return f
    const yaml = nodes.get(f.source.file)?.get(f.source.line)
    if (!yaml) return f
    return { ...f, source: { ...f.source, line: fieldLine(yaml, pathSegments(f.path)) } }
  })
}
