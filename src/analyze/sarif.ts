/**
 * `analyze -o sarif`: the findings as a SARIF 2.1.0 log (OASIS Static Analysis Results Interchange
 * Format), for code-scanning UIs. One run, tool `routeguard` with one reportingDescriptor per code
 * of the catalogue that has a result (id = the code, name, description, default level, help: the
 * template and source of docs/rules.md); one result per finding, its location the file and the line of the field
 * (relative to the working directory), the object and field path as a logical location.
 * Levels: error → `error`, warning → `warning`, info → `note`.
 */
import { relative } from 'node:path'
import type { Log, ReportingDescriptor, Result } from 'sarif'
import { CATALOGUE, type Code, type Severity } from '../rules/catalogue.js'
import { describeRef } from '../model/object.js'
import type { SourcedFinding } from './analyze.js'

const LEVEL: Record<Severity, Result.level> = { error: 'error', warning: 'warning', info: 'note' }

/** A SARIF log of `findings`; `version` is routeguard's. Files are made relative to `cwd`. */
export function toSarif(findings: SourcedFinding[], version: string, cwd = process.cwd()): Log {
  const codes = [...new Set(findings.map((f) => f.code))].sort()
  const index = new Map(codes.map((c, i) => [c, i]))
  const rules: ReportingDescriptor[] = codes.map((code) => {
    const spec = CATALOGUE[code as Code]
    return {
      id: code,
      name: spec.name,
      shortDescription: { text: spec.description },
      fullDescription: { text: `${spec.description} Source: ${spec.source}.` },
      defaultConfiguration: { level: LEVEL[spec.level] },
      help: { text: `${code} ${spec.name} (${spec.level}): ${spec.description} Message: ${spec.template} See docs/rules.md.` },
      properties: { source: spec.source },
    }
  })
  const results: Result[] = findings.map((f) => {
    const logical = { kind: 'resource', fullyQualifiedName: `${describeRef(f.resource)}${f.path ? ` ${f.path}` : ''}`, name: f.resource.name }
    const file = f.source && f.source.file !== 'cluster' && f.source.file !== '<stdin>' ? f.source : undefined
    return {
      ruleId: f.code,
      ruleIndex: index.get(f.code)!,
      level: LEVEL[f.severity],
      message: { text: f.message },
      locations: [
        {
          ...(file ? { physicalLocation: { artifactLocation: { uri: encodeURI(relative(cwd, file.file).split('\\').join('/')) }, ...(file.line > 0 ? { region: { startLine: file.line } } : {}) } } : {}),
          logicalLocations: [logical],
        },
      ],
      ...(f.related.length ? { relatedLocations: f.related.map((r, i) => ({ id: i, message: { text: `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}` } })) } : {}),
      partialFingerprints: { 'routeguard/v1': `${f.code}:${describeRef(f.resource)}:${f.path ?? ''}` },
    }
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'routeguard', version, rules } }, results, columnKind: 'utf16CodeUnits' }],
  }
}
