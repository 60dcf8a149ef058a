/**
 * The configuration file (`serve --config FILE`): YAML, validated with ajv against the schema
 * below; an invalid file is refused with errors that name the offending key.
 *
 * ```yaml
 * rules:               # per rule code: deny | warn | off
 *   RG0103: warn
 * exemptNamespaces: [istio-system]
 * failurePolicy: Fail  # Fail (deny) or Ignore (allow) when an object under review cannot be read
 * migration: true      # RG0302 (no Gateway API equivalent) as warnings instead of info
 * implementation: istio # Gateway API implementation for RG0301 (envoy-gateway, cilium@v1.20.0, …)
 * allowExistingViolations: true # UPDATE: findings the old version had already only warn (default true)
 * exceptions:          # findings they match warn instead of deny, until they expire
 *   - name: shop-migration
 *     codes: [IST0109]
 *     namespaces: [shop]
 *     expires: 2027-01-31T00:00:00Z
 * ownership:           # RG0106 TrafficTakeover: who may take requests on a hostname (default off)
 *   mode: explicit     # off | oldest (the namespace of the oldest route serving it) | explicit
 *   hosts:
 *     - hostname: "*.shop.example.com"
 *       namespaces: [shop, checkout]
 * ```
 */
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'
import { CATALOGUE } from '../rules/catalogue.js'
import type { Policy } from '../policy.js'

export interface Config {
  policy: Policy
  failurePolicy: 'Fail' | 'Ignore'
  /** `NAME[@VERSION]` of the Gateway API implementation (RG0301); default istio */
  implementation?: string
}

export const DEFAULT_CONFIG: Config = { policy: { rules: {}, exemptNamespaces: [] }, failurePolicy: 'Fail' }

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: {
      type: 'object',
      propertyNames: { enum: Object.keys(CATALOGUE) },
      additionalProperties: { enum: ['deny', 'warn', 'off'] },
    },
    exemptNamespaces: { type: 'array', items: { type: 'string' } },
    failurePolicy: { enum: ['Fail', 'Ignore'] },
    migration: { type: 'boolean' },
    implementation: { type: 'string', pattern: '^[a-z0-9-]+(@[A-Za-z0-9._-]+)?$' },
    allowExistingViolations: { type: 'boolean' },
    exceptions: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 253 },
          reason: { type: 'string', maxLength: 1024 },
          codes: { type: 'array', items: { enum: Object.keys(CATALOGUE) } },
          namespaces: { type: 'array', items: { type: 'string' } },
          kinds: { type: 'array', items: { type: 'string' } },
          names: { type: 'array', items: { type: 'string' } },
          matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
          expires: { type: 'string', format: 'date-time' },
        },
      },
    },
    ownership: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: { enum: ['off', 'oldest', 'explicit'] },
        hosts: {
          type: 'array',
          maxItems: 10000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['hostname', 'namespaces'],
            properties: {
              hostname: { type: 'string', minLength: 1, maxLength: 253, pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$|^\\*$' },
              namespaces: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 63 } },
            },
          },
        },
      },
    },
  },
} as const

const ajv = new Ajv({ allErrors: true, strict: true })
// ajv-formats is CommonJS: under ESM its plugin is the module's default (or the module itself)
type FormatsPlugin = (ajv: Ajv, formats: string[]) => Ajv
const formats = addFormatsModule as unknown as FormatsPlugin & { default?: FormatsPlugin }
;(formats.default ?? formats)(ajv, ['date-time'])
const validate = ajv.compile(schema)

export class ConfigError extends Error {}

/**
 * Parses and validates a configuration document.
 * @throws ConfigError naming each bad key (`rules.RG9999: unknown rule code`).
 */
export function parseConfig(text: string, source = 'config'): Config {
  let doc: unknown
  try {
    doc = parse(text) ?? {}
  } catch (e) {
    throw new ConfigError(`${source}: not valid YAML: ${(e as Error).message}`)
  }
  if (!validate(doc)) {
    const problems = (validate.errors ?? []).map((e) => {
      const at = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
      if (e.keyword === 'additionalProperties') return `${at ? at + '.' : ''}${String(e.params.additionalProperty)}: unknown key`
      if (e.keyword === 'propertyNames') return `${at}.${String(e.params.propertyName)}: unknown rule code`
      if (e.keyword === 'enum') return `${at}: must be one of ${(e.params.allowedValues as string[]).join(', ')}`
      return `${at || '(top)'}: ${e.message}`
    })
    throw new ConfigError(`${source}: ${[...new Set(problems)].join('; ')}`)
  }
  const d = doc as {
    rules?: Policy['rules']
    exemptNamespaces?: string[]
    failurePolicy?: Config['failurePolicy']
    migration?: boolean
    implementation?: string
    allowExistingViolations?: boolean
    exceptions?: Policy['exceptions']
    ownership?: Policy['ownership']
  }
  // migration: teams moving to the Gateway API see RG0302 as warnings (unless set explicitly)
  const rules: Policy['rules'] = { ...(d.migration ? { RG0302: 'warn' as const } : {}), ...(d.rules ?? {}) }
  return {
    policy: {
      rules,
      exemptNamespaces: d.exemptNamespaces ?? [],
      ...(d.allowExistingViolations === false ? { allowExistingViolations: false } : {}),
      ...(d.exceptions?.length ? { exceptions: d.exceptions } : {}),
      ...(d.ownership && d.ownership.mode !== 'off' ? { ownership: d.ownership } : {}),
    },
    failurePolicy: d.failurePolicy ?? 'Fail',
    ...(d.implementation ? { implementation: d.implementation } : {}),
  }
}

/**
 * Reads and validates a configuration file: the config itself, or the ConfigMap that ships it
 * (`kind: ConfigMap` with `data["config.yaml"]`, as manifests/base/config.yaml), so that `analyze
 * --config` in CI reads the very manifest the webhook mounts.
 * @throws ConfigError, or the fs error when unreadable.
 */
export function loadConfig(path: string): Config {
  const text = readFileSync(path, 'utf8')
  let doc: unknown
  try {
    doc = parse(text)
  } catch {
    return parseConfig(text, path) // parseConfig reports the syntax error
  }
  const cm = doc as { kind?: unknown; data?: Record<string, unknown> } | null
  if (cm?.kind === 'ConfigMap') {
    const inner = cm.data?.['config.yaml']
    if (typeof inner !== 'string') throw new ConfigError(`${path}: a ConfigMap without data["config.yaml"]`)
    return parseConfig(inner, `${path} (data["config.yaml"])`)
  }
  return parseConfig(text, path)
}
