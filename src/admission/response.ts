/**
 * Admission responses, after controller-runtime's `admission.Response`: build with `allowed()`,
 * `denied()`, `patched()`, `errored()`, then add `.withWarnings()` / `.withAuditAnnotations()`.
 * `toReview(uid)` gives the `admission.k8s.io/v1` AdmissionReview the API server expects.
 */
import { shorten } from '../model/text.js'
import { ADMISSION_API_VERSION } from './review.js'

/**
 * Characters of one warning at most: the API server truncates longer ones (k8s.io/apiserver
 * `pkg/admission/plugin/webhook`: warnings over 256 characters may be truncated). Messages put the
 * code, the object and what is wrong first; the whole text is in the `warnings` audit annotation.
 */
export const MAX_WARNING_LENGTH = 256

/**
 * Characters of warnings one response carries at most. The API server keeps at most 4 KiB of
 * warnings per request (k8s.io/apiserver `pkg/warning`: longer lists are truncated); what does
 * not fit is replaced by one last warning that counts the warnings left out.
 */
export const MAX_WARNINGS_TOTAL = 4096 - 64

/** Characters of a deny (or error) message at most; longer messages end with what was cut. */
export const MAX_STATUS_MESSAGE = 4096

export interface Status {
  code: number
  reason?: string
  message?: string
}

export class Response {
  warnings: string[] = []
  /** warnings already in `warnings` (linear de-duplication) */
  private readonly seen = new Set<string>()
  private warningChars = 0
  /** warnings left out because the 4 KiB budget was spent */
  private warningsCut = 0
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
    return new Response(false, { code: 403, reason, message: capMessage(message) })
  }

  /** Allowed with a JSONPatch (RFC 6902 operations); an empty patch is a plain allow. */
  static patched(patch: unknown[], message?: string): Response {
    return new Response(true, message ? { code: 200, message } : undefined, patch.length ? patch : undefined)
  }

  /** Not allowed because the webhook could not decide (HTTP `code`, e.g. 400 or 500). */
  static errored(code: number, message: string): Response {
    return new Response(false, { code, reason: code >= 500 ? 'InternalError' : 'BadRequest', message: capMessage(message) })
  }

  /**
   * Adds warnings, each cut to MAX_WARNING_LENGTH characters (ending `...`: ASCII keeps the
   * whole answer a one-byte string, which Node writes without re-encoding); duplicates (the same
   * whole text) are dropped (a Set: linear in the number of warnings), so two findings whose
   * texts differ only past the cut both stay. At most MAX_WARNINGS_TOTAL characters are kept; the
   * rest are counted and `toReview` says how many were left out.
   */
  withWarnings(...warnings: readonly string[]): this {
    return this.addWarnings(warnings)
  }

  /** `withWarnings` for a list (no spread: a list of 100k warnings would overflow the stack). */
  addWarnings(warnings: Iterable<string>): this {
    for (const w of warnings) {
      if (this.seen.has(w)) continue
      this.seen.add(w)
      const cut = w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 3)}...` : w
      if (this.warningChars + cut.length > MAX_WARNINGS_TOTAL) {
        this.warningsCut++
        continue
      }
      this.warningChars += cut.length
      this.warnings.push(cut)
    }
    return this
  }

  /** Warnings as sent: the kept ones, then one that counts those left out. */
  sentWarnings(): string[] {
    return this.warningsCut ? [...this.warnings, `routeguard: ${this.warningsCut} more warning(s) not shown (4 KiB limit); see the audit annotations "findings" and "warnings" and the webhook log`] : this.warnings
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
    if (this.warnings.length) response.warnings = this.sentWarnings()
    if (Object.keys(this.auditAnnotations).length) response.auditAnnotations = this.auditAnnotations
    return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response }
  }
}

/** `message` shortened to MAX_STATUS_MESSAGE characters (`shorten`: head, what was cut, tail): kubectl prints it. */
function capMessage(message: string): string {
  return shorten(message, MAX_STATUS_MESSAGE)
}
