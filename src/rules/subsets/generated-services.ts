/**
 * RG0403 SubsetServiceGenerated and RG0404 SubsetServiceNotWritten: what /mutate reports on the
 * per-subset Services it plans (`subsets/mutator.ts`). Not view rules: they speak of one review's
 * writes, so they are warnings on that review only (AdmissionResponse `warnings`), never in
 * `analyze` or the audit. Source: routeguard subset Services (GEP-1294 per-subset Service pattern).
 */
import { formatMessage } from '../messages.js'

/** One planned Service: `service`, `base`, `destinationRule` as `ns/name`; `subset` its name. */
export interface PlannedService {
  service: string
  base: string
  subset: string
  destinationRule: string
}

/**
 * `RG0403: <subject>: would generate Service ns/name (dryRun|standalone: nothing written): …`.
 * @param subject `Kind ns/name` of the reviewed object, already shortened
 */
export function wouldGenerate(subject: string, planned: PlannedService, why: 'dryRun' | 'standalone'): string {
  const detail = why === 'dryRun' ? ' (dryRun)' : ' (standalone: nothing written)'
  return formatMessage('RG0403', { ...planned, verb: 'would generate', detail }, subject)
}

/**
 * `RG0404: <subject>: could not generate Service ns/name: <error>`.
 * @param error why: the subset's label contradiction, or the API server's answer (then `retry`)
 */
export function notWritten(subject: string, service: string, error: string, retry = false): string {
  return formatMessage('RG0404', { service, error: retry ? `${error}; will retry` : error }, subject)
}
