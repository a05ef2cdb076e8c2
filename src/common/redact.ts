/**
 * Redacts secrets from free text (error messages, job failure reasons) before it is
 * logged. Structured log fields are redacted by pino (REDACTED_PATHS in logging.ts); this
 * covers what arrives as a string, such as an ffmpeg or HTTP client error that quotes a URL.
 */
const PATTERNS: Array<[RegExp, string]> = [
  // Our own key formats and well-known token prefixes.
  [/\bcbk_[A-Za-z0-9_-]+/g, 'cbk_[redacted]'],
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, 'whsec_[redacted]'],
  [/\b(shp(?:at|ss|ca|pa)_)[A-Za-z0-9]+/g, '$1[redacted]'],
  // Authorization header values.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  // Credentials in URLs: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[redacted]@'],
  // RTMP(S) URLs end in a stream key: keep the host and application, hide the key.
  [/\b(rtmps?:\/\/[^/\s]+\/[^/\s]+)\/[^\s'"]+/gi, '$1/[redacted]'],
  // Query strings carry OAuth codes, HMACs and signatures.
  [/(https?:\/\/[^\s?'"]+)\?[^\s'"]*/gi, '$1?[redacted]'],
  // key=value pairs whose name says secret.
  [
    /\b((?:api[_-]?key|stream[_-]?key|secret|token|access[_-]?token|password|passwd|hmac|signature)["']?\s*[:=]\s*["']?)[^\s"',&;]+/gi,
    '$1[redacted]',
  ],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}
