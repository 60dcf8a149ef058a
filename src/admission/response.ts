/**
 * Admission responses, after controller-runtime's `admission.Response`: build with `allowed()`,
 * `denied()`, `patched()`, `errored()`, then add `.withWarnings()` / `.withAuditAnnotations()`.
 * `toReview(uid)` gives the `admission.k8s.io/v1` AdmissionReview the API server expects.
 */
import { ADMISSION_API_VERSION } from './review.js'

/** Kubernetes caps each warning at 256 characters; we keep them short enough to read in kubectl. */
export const MAX_WARNING_LENGTH = 120

export interface Status {
  code: number
  reason?: string
  message?: string
}

export class Response {
  warnings: string[] = []
  auditAnnotations: Record<string, string> = {}

  private constructor(
    readonly allowed: boolean,
    readonly status?: Status,
    readonly patch?: unknown[],
  ) {}

  static allowed(message?: string): Response {
    return new Response(true, message ? { code: 200, message } : undefined)
  }

  /** Denied with HTTP 403 and `reason` (a Kubernetes StatusReason such as `Forbidden`). */
  static denied(message: string, reason = 'Forbidden'): Response {
    return new Response(false, { code: 403, reason, message })
  }

  /** Allowed with a JSONPatch (RFC 6902 operations); an empty patch is a plain allow. */
  static patched(patch: unknown[], message?: string): Response {
    return new Response(true, message ? { code: 200, message } : undefined, patch.length ? patch : undefined)
  }

  /** Not allowed because the webhook could not decide (HTTP `code`, e.g. 400 or 500). */
  static errored(code: number, message: string): Response {
    return new Response(false, { code, reason: code >= 500 ? 'InternalError' : 'BadRequest', message })
  }

  /**
   * Adds warnings, each cut to MAX_WARNING_LENGTH characters (ending `...`: ASCII keeps the
   * whole answer a one-byte string, which Node writes without re-encoding); duplicates are dropped.
   */
  withWarnings(...warnings: string[]): this {
    for (const w of warnings) {
      const cut = w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 3)}...` : w
      if (!this.warnings.includes(cut)) this.warnings.push(cut)
    }
    return this
  }

  withAuditAnnotations(annotations: Record<string, string>): this {
    Object.assign(this.auditAnnotations, annotations)
    return this
  }

  toReview(uid: string): Record<string, unknown> {
    const response: Record<string, unknown> = { uid, allowed: this.allowed }
    if (this.status) response.status = this.status
    if (this.patch) {
      response.patchType = 'JSONPatch'
      response.patch = Buffer.from(JSON.stringify(this.patch)).toString('base64')
    }
    if (this.warnings.length) response.warnings = this.warnings
    if (Object.keys(this.auditAnnotations).length) response.auditAnnotations = this.auditAnnotations
    return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response }
  }
}
