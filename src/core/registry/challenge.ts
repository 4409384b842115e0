/**
 * `WWW-Authenticate` challenges from a registry (RFC 7235 syntax, as the distribution token spec uses it):
 *
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 *   Basic realm="Registry Realm"
 *
 * Pure parsing; the HTTP client decides what to do with it.
 */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>; // lower-case keys: realm, service, scope, error
}

// A token (auth-param name or scheme) and a value that is either a token or a quoted string with \-escapes.
const PARAM_RE = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/y;
const SCHEME_RE = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+|$)/y;

/** Every challenge we understand in the header (several may be given); unknown schemes are skipped. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (header === undefined) return [];
  const out: Challenge[] = [];
  let pos = 0;
  while (pos < header.length) {
    SCHEME_RE.lastIndex = pos;
    const s = SCHEME_RE.exec(header);
    if (!s) break;
    pos = SCHEME_RE.lastIndex;
    const params: Record<string, string> = {};
    for (;;) {
      PARAM_RE.lastIndex = pos;
      const p = PARAM_RE.exec(header);
      if (!p) break;
      // A following scheme looks like "Basic realm=..." — PARAM_RE would not match "Basic realm", so we stop there.
      params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
      pos = PARAM_RE.lastIndex;
    }
    const scheme = s[1]!.toLowerCase();
    if (scheme === 'basic' || scheme === 'bearer') out.push({ scheme, params });
    while (pos < header.length && /[\s,]/.test(header[pos]!)) pos++;
  }
  return out;
}

/** `repository:team/app:pull,push` */
export function repositoryScope(repository: string, actions: readonly ('pull' | 'push')[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}
