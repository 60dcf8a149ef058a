/**
 * Every user regular expression routeguard runs goes through here, on RE2 (the `re2js` port of
 * RE2/J): matching is linear in the input, so no pattern a tenant writes can make a review,
 * `analyze` or `trace` backtrack for ever. RE2 is what Envoy runs (`safe_regex`), so an
 * expression RE2 refuses is one Envoy refuses too; Istio's validation refuses it at apply time
 * (`ValidateHTTPRoute` → `validateStringMatchRegexp`: must compile as RE2, at most 1024
 * characters). JavaScript's `RegExp` is never used on user input.
 *
 * Sources: Gateway API `HTTPPathMatch`/`HTTPHeaderMatch`/`HTTPQueryParamMatch` type
 * RegularExpression (implementation-specific dialect; Envoy-based implementations use RE2);
 * Istio `StringMatch.regex`, `HTTPRewrite.uriRegexRewrite` (Envoy `RegexMatchAndSubstitute`,
 * substitutions `\1`…`\9`).
 *
 * Also the schema side: CRD `pattern`s (crd/validate.ts) and CEL `matches()` (crd/cel.ts) search
 * an object's strings with `searchMatch`, and `analyze --suppress` globs are matched whole here.
 *
 * Bounds: patterns over MAX_PATTERN_LENGTH characters are refused (as Istio does); request
 * inputs over MAX_SUBJECT_LENGTH characters never match a route (`fullMatch`, `regexReplaceAll`:
 * Envoy refuses request headers over 60 KiB, so no such request reaches a route), while
 * `searchMatch` reads any length (linear); compiled programs are cached, at most CACHE_SIZE.
 */
import { RE2JS } from 're2js'
import { checkDeadline } from '../deadline.js'

/** Longest pattern accepted, characters (Istio's validation limit). */
export const MAX_PATTERN_LENGTH = 1024
/** Longest input matched, characters (Envoy's default max_request_headers_kb is 60). */
export const MAX_SUBJECT_LENGTH = 64 * 1024
/** Compiled patterns kept at most (oldest dropped first). */
export const CACHE_SIZE = 1024

type Compiled = { re: RE2JS } | { error: string }
const cache = new Map<string, Compiled>()

/**
 * Compiles `pattern` with RE2 semantics, cached.
 * @returns the program, or why RE2 refuses the pattern (too long, or a syntax RE2 has not:
 *   lookaround, backreferences, repeat counts over 1000 …)
 */
export function compileRegex(pattern: string, ignoreCase = false): Compiled {
  const key = `${ignoreCase ? 'i' : '-'}${pattern}`
  const hit = cache.get(key)
  if (hit) return hit
  let compiled: Compiled
  if (pattern.length > MAX_PATTERN_LENGTH) compiled = { error: `longer than ${MAX_PATTERN_LENGTH} characters (${pattern.length})` }
  else {
    checkDeadline()
    try {
      compiled = { re: RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) }
    } catch (e) {
      compiled = { error: (e as Error).message.replace(/^error parsing regexp: /, '') }
    }
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(key, compiled)
  return compiled
}

/** Why RE2 (and so Istio's validation and Envoy) refuses `pattern`; undefined when it compiles. */
export function regexError(pattern: string): string | undefined {
  const c = compileRegex(pattern)
  return 'error' in c ? c.error : undefined
}

/**
 * Does `pattern` match the whole of `value` (RE2 full match, as Envoy's `safe_regex` and the
 * Gateway API's RegularExpression matches do)? A pattern RE2 refuses matches nothing; so does
 * an input over MAX_SUBJECT_LENGTH.
 */
export function fullMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (value.length > MAX_SUBJECT_LENGTH) return false
  const c = compileRegex(pattern, ignoreCase)
  if ('error' in c) return false
  checkDeadline()
  return c.re.matcher(value).matches()
}

/**
 * Does `pattern` match somewhere in `value` (an unanchored search: JSON Schema `pattern`, CEL
 * `string.matches`, both RE2 in the API server)? Patterns are the schema's or the rule's, values
 * the object's; Go's inline flags (`(?i)`) are RE2's own.
 * @throws Error when RE2 refuses the pattern (a CRD the API server would not have accepted)
 */
export function searchMatch(pattern: string, value: string): boolean {
  const c = compileRegex(pattern)
  if ('error' in c) throw new Error(`regular expression ${JSON.stringify(pattern)} is not valid RE2: ${c.error}`)
  checkDeadline()
  return c.re.matcher(value).find()
}

/**
 * The leftmost matches of `pattern` in `value`, at most `limit` (CEL's `find`/`findAll`, RE2 as
 * the API server runs them). An empty match advances by one character, so the scan ends.
 * @throws Error when RE2 refuses the pattern
 */
export function findMatches(pattern: string, value: string, limit = Infinity): string[] {
  const c = compileRegex(pattern)
  if ('error' in c) throw new Error(`regular expression ${JSON.stringify(pattern)} is not valid RE2: ${c.error}`)
  checkDeadline()
  const m = c.re.matcher(value)
  const out: string[] = []
  let from = 0
  while (out.length < limit && from <= value.length && m.find(from)) {
    out.push(m.group() ?? '')
    from = m.end() > m.start() ? m.end() : m.end() + 1
  }
  return out
}

/** `text` as an RE2 expression that matches exactly it (every metacharacter quoted). */
export function quoteRegex(text: string): string {
  return RE2JS.quote(text)
}

/**
 * Envoy's `RegexMatchAndSubstitute` (Istio `uriRegexRewrite`): every match of `pattern` in
 * `value` replaced by `substitution`, where `\1`…`\9` are capture groups. @returns the new
 * value, or undefined when RE2 refuses the pattern or the input is over MAX_SUBJECT_LENGTH (Envoy
 * keeps the path then).
 */
export function regexReplaceAll(pattern: string, value: string, substitution: string): string | undefined {
  if (value.length > MAX_SUBJECT_LENGTH) return undefined
  const c = compileRegex(pattern)
  if ('error' in c) return undefined
  checkDeadline()
  // Envoy's substitution (RE2::Rewrite): a backslash and a digit is that group (0: the whole match), two backslashes one, the rest literal
  const parts: (string | number)[] = []
  for (let i = 0; i < substitution.length; i++) {
    const ch = substitution[i]!
    const next = substitution[i + 1]
    if (ch === '\\' && next !== undefined && next >= '0' && next <= '9') parts.push(Number(next)), i++
    else if (ch === '\\' && next === '\\') parts.push('\\'), i++
    else parts.push(ch)
  }
  return c.re.matcher(value).replaceAll((...args: unknown[]) => parts.map((p) => (typeof p === 'number' ? (typeof args[p] === 'string' ? args[p] : '') : p)).join(''))
}
