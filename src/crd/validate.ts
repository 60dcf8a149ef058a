/**
 * Validation of objects against a CustomResourceDefinition, as the API server does it: ajv on the
 * version's `openAPIV3Schema` (Kubernetes' `x-kubernetes-*` keywords known, `int-or-string`
 * accepted, patterns matched with RE2) plus the CEL rules of `x-kubernetes-validations` (./cel.ts). Used by
 * `convert` (what does not validate is not written) and by the conformance suite.
 */
import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsMod from 'ajv-formats'
import { parse } from 'yaml'
import { celViolations } from './cel.js'
import { searchMatch } from '../routing/regex.js'

const addFormats = addFormatsMod as unknown as (ajv: Ajv) => void

/**
 * CRD `pattern`s are Go (RE2) regular expressions, and the API server matches them with RE2: so
 * does ajv here (`code.regExp`), through routing/regex.ts, never JavaScript's backtracking
 * `RegExp` on an object's values. Go's inline flags (`(?i)`) are RE2's own; ajv's `u` flag is
 * RE2's default.
 * @throws Error at schema compilation when RE2 refuses a pattern
 */
function re2Pattern(pattern: string): { test: (value: string) => boolean; toString: () => string } {
  searchMatch(pattern, '') // compiles now: a pattern RE2 refuses fails the schema, not each value
  // ajv keeps one compiled pattern per `toString()`: it must name the pattern
  return { test: (value: string) => searchMatch(pattern, value), toString: () => `re2:${pattern}` }
}
re2Pattern.code = 'routeguard/re2'

export interface CrdCheck {
  ok: boolean
  errors: ErrorObject[]
  /** CEL rules that failed, one line each */
  cel: string[]
}

export type CrdValidator = ((o: unknown) => CrdCheck) & { schema: Record<string, unknown> }

/**
 * A validator for `version` of the CRD in `file` (YAML).
 * @throws when the file has no such version or its schema does not compile
 */
export function crdValidator(file: string, version: string): CrdValidator {
  return validatorFor(parse(readFileSync(file, 'utf8')), version, file)
}

/**
 * A validator for `version` of a CustomResourceDefinition object.
 * @throws when the CRD has no such version (or no schema for it), or the schema does not compile
 */
export function validatorFor(crd: unknown, version: string, where = 'CustomResourceDefinition'): CrdValidator {
  const versions = ((crd as { spec?: { versions?: unknown } })?.spec?.versions ?? []) as { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[]
  const schema = versions.find((v) => v.name === version)?.schema?.openAPIV3Schema
  if (!schema) throw new Error(`${where}: no version ${version}`)
  const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true, code: { regExp: re2Pattern } })
  addFormats(ajv)
  ajv.addVocabulary(['x-kubernetes-validations', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-embedded-resource'])
  ajv.addFormat('int-or-string', true)
  const validate = ajv.compile(schema)
  return Object.assign(
    (o: unknown): CrdCheck => {
      const cel = celViolations(o, schema)
      const schemaOk = validate(o) === true
      return { ok: schemaOk && cel.length === 0, errors: [...(validate.errors ?? [])], cel }
    },
    { schema },
  )
}
