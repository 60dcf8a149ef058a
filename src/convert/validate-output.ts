/**
 * `convert`'s output checked against the target's Gateway API CRDs (a `--crds` folder or the
 * cluster's) before anything is written: the OpenAPI schema and the CEL rules of the version the
 * object is written at (src/crd/validate.ts). An object whose kind or version the CRDs do not serve,
 * or that does not validate, is held back with the reasons; objects of built-in kinds (per-subset
 * Services) are not CRD-validated.
 */
import { arr, type K8sObject, rec, str } from '../model/object.js'
import { type CrdValidator, validatorFor } from '../crd/validate.js'
import { GATEWAY_GROUP } from '../model/gatewayapi.js'

export interface HeldBack {
  object: K8sObject
  /** why, one line each: schema errors (`/spec/rules/0/timeouts/request: must match pattern …`), CEL messages, or an unserved kind/version */
  problems: string[]
}

export interface OutputCheck {
  /** what may be written: validated custom objects and built-in kinds */
  valid: K8sObject[]
  held: HeldBack[]
}

/** Splits `objects` into what validates against `crds` and what is held back. */
export function checkOutput(objects: K8sObject[], crds: K8sObject[]): OutputCheck {
  const byKind = new Map<string, K8sObject>()
  for (const c of crds) {
    const spec = rec(c.spec)
    byKind.set(`${str(spec.group)}/${str(rec(spec.names).kind)}`, c)
  }
  const groups = new Set([...byKind.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))
  const validators = new Map<string, CrdValidator>()
  const out: OutputCheck = { valid: [], held: [] }
  for (const o of objects) {
    const apiVersion = String(o.apiVersion)
    const slash = apiVersion.indexOf('/')
    const group = slash < 0 ? '' : apiVersion.slice(0, slash)
    const version = apiVersion.slice(slash + 1)
    // built-in kinds (core Services) are not CRDs; every Gateway API kind must be served
    if (group !== GATEWAY_GROUP && !groups.has(group)) {
      out.valid.push(o)
      continue
    }
    const crd = byKind.get(`${group}/${String(o.kind)}`)
    if (!crd) {
      out.held.push({ object: o, problems: [`no CustomResourceDefinition for ${group} ${String(o.kind)} in the target`] })
      continue
    }
    const served = arr(rec(crd.spec).versions).map(rec).find((v) => str(v.name) === version)
    if (!served || served.served !== true) {
      out.held.push({ object: o, problems: [`${String(o.kind)} ${version} is not served by the target's CRD`] })
      continue
    }
    const key = `${group}/${String(o.kind)}/${version}`
    let validate = validators.get(key)
    if (!validate) validators.set(key, (validate = validatorFor(crd, version, key)))
    const r = validate(o)
    if (r.ok) out.valid.push(o)
    else out.held.push({ object: o, problems: [...r.errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`), ...r.cel.slice(0, 5)] })
  }
  return out
}
