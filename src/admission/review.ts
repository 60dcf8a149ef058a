/**
 * The `admission.k8s.io/v1` AdmissionReview envelope: our JSON schema for what the API server
 * sends (only the fields we rely on are required; `object` is left free so that an object we
 * cannot read is answered per the failure policy rather than rejected as a bad envelope).
 */
import { type K8sObject, kindKey } from '../model/object.js'
import { shorten } from '../model/text.js'

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1'

export interface GroupVersionKind {
  group: string
  version: string
  kind: string
}

export interface AdmissionRequest {
  uid: string
  kind: GroupVersionKind
  resource?: { group: string; version: string; resource: string }
  subResource?: string
  name?: string
  namespace?: string
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'
  userInfo?: { username?: string }
  object?: unknown
  oldObject?: unknown
  dryRun?: boolean
  options?: unknown
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION
  kind: 'AdmissionReview'
  request: AdmissionRequest
}

const gvk = {
  type: 'object',
  required: ['kind'],
  properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string', minLength: 1 } },
} as const

/** JSON schema of the envelope (draft-07, for ajv via Fastify's route schema). */
export const admissionReviewSchema = {
  $id: 'AdmissionReview',
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { const: ADMISSION_API_VERSION },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        kind: gvk,
        resource: { type: 'object' },
        subResource: { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        userInfo: { type: 'object' },
        dryRun: { type: 'boolean' },
      },
    },
  },
} as const

/**
 * JSON schema of our answer (what `Response.toReview` builds), for Fastify's response
 * serializer (fast-json-stringify: about twice as fast as JSON.stringify on this shape).
 * A property missing here would be dropped from the answer: every field `toReview` can set is
 * listed, and a test sends every kind of Response through it.
 */
export const admissionReviewResponseSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'response'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      required: ['uid', 'allowed'],
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          required: ['code'],
          properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
        },
        patchType: { type: 'string' },
        patch: { type: 'string' },
        warnings: { type: 'array', items: { type: 'string' } },
        auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  },
} as const

/** `apiVersion` of the object a request is about (`group/version`, or `version` for the core group). */
export function requestApiVersion(req: AdmissionRequest): string {
  return req.kind.group ? `${req.kind.group}/${req.kind.version ?? ''}` : (req.kind.version ?? '')
}

/** `<group>/<Kind>` of the request, as the view keys kinds. */
export function requestKindKey(req: AdmissionRequest): string {
  return kindKey(req.kind.group ?? '', req.kind.kind)
}

/**
 * The object under review, with identity filled in from the request when the object lacks it
 * (CREATE with generateName has no name yet; namespaced objects may omit the namespace).
 * @returns the object, or a reason why it cannot be read.
 */
export function subjectOf(req: AdmissionRequest): { object: K8sObject } | { error: string } {
  return readObject(req, req.operation === 'DELETE' ? 'oldObject' : 'object')
}

/**
 * `request.oldObject` of an UPDATE, read as `subjectOf` reads the object (identity filled in from
 * the request, the same checks): what the object was before the change, for telling the
 * violations a change introduces from the ones it keeps.
 * @returns the object, or a reason why it cannot be read.
 * @throws BadReview when it contradicts `request.kind` or `request.namespace`
 */
export function oldSubjectOf(req: AdmissionRequest): { object: K8sObject } | { error: string } {
  return readObject(req, 'oldObject')
}

function readObject(req: AdmissionRequest, field: 'object' | 'oldObject'): { object: K8sObject } | { error: string } {
  const raw = req[field]
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { error: `request.${field} is not a JSON object` }
  }
  if (tooDeep(raw, MAX_DEPTH)) return { error: `object nested deeper than ${MAX_DEPTH} levels` }
  const obj = raw as K8sObject
  const meta = obj.metadata
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) {
    return { error: 'metadata is not an object' }
  }
  const m = { ...(meta ?? {}) }
  if (typeof m.name !== 'string' || m.name === '') {
    m.name = req.name || (typeof m.generateName === 'string' ? `${m.generateName}<generated>` : '<unnamed>')
  }
  if ((m.namespace === undefined || m.namespace === '') && req.namespace) m.namespace = req.namespace
  if (typeof m.name !== 'string' || (m.namespace !== undefined && typeof m.namespace !== 'string')) {
    return { error: 'metadata.name or metadata.namespace is not a string' }
  }
  const apiVersion = requestApiVersion(req)
  if ((obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) || (obj.kind !== undefined && obj.kind !== req.kind.kind)) {
    throw new BadReview(
      `request.kind ${quote(apiVersion)} ${quote(req.kind.kind)} and request.${field} ${quote(obj.apiVersion)} ${quote(obj.kind)} disagree`,
    )
  }
  if (req.namespace && m.namespace && m.namespace !== req.namespace) {
    throw new BadReview(`request.namespace ${quote(req.namespace)} and request.${field}.metadata.namespace ${quote(m.namespace)} disagree`)
  }
  return { object: { ...obj, apiVersion, kind: req.kind.kind, metadata: m } }
}

/**
 * A review that contradicts itself: `request.kind` against the object's `apiVersion`/`kind`,
 * or `request.namespace` against the object's namespace. The API server never sends one (it
 * fills both from the same object), so the transport answers HTTP 400 with this message
 * rather than judge one reading while recording another.
 */
export class BadReview extends Error {}

/** A value as a 400 message shows it: JSON, shortened. */
function quote(v: unknown): string {
  if (v === undefined) return '(none)'
  return typeof v === 'string' ? JSON.stringify(shorten(v, 128)) : shorten(JSON.stringify(v) ?? String(v), 128)
}

/** Kubernetes objects are shallow; anything deeper is refused before any rule walks it. */
export const MAX_DEPTH = 100

/**
 * Is `v` nested deeper than `max` levels? Recursion stops at `max`, so hostile nesting cannot
 * exhaust the stack; nothing is allocated (this runs on every review).
 */
function tooDeep(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false
  if (max === 0) return true
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (tooDeep(v[i], max - 1)) return true
    return false
  }
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k) && tooDeep((v as Record<string, unknown>)[k], max - 1)) return true
  return false
}
