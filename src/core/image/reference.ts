import { InvalidArgumentError } from '../errors.ts';
import type { Digest } from './digest.ts';

/**
 * Image references, normalised the way docker does it (distribution's reference grammar plus docker's defaults):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component { "/" path-component }
 *
 * The first component is a domain only when it contains "." or ":", is "localhost", or has an upper-case letter;
 * otherwise the domain is docker.io and one-component names live under "library/". Pure: no registry is asked.
 *
 * Vocabulary: the "normalised" form is what the store keeps (`docker.io/library/busybox:latest`); the "familiar"
 * form is what users see (`busybox:latest`).
 */
export interface Reference {
  readonly domain: string; // docker.io, host:5000, [::1]:5000
  readonly path: string; // library/busybox, team/app
  readonly tag?: string;
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_MAX = 255;

// The grammar, piece by piece (distribution/reference regexp.go describes the same language).
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const DOMAIN_RE = new RegExp(`^(${DOMAIN})/(.+)$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const HEX64_RE = /^[a-f0-9]{64}$/;

function invalid(detail: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid reference format: ${detail}`);
}

/** Splits off docker's implicit domain; `remainder` still carries the tag and digest. */
function splitDomain(s: string): { domain: string; remainder: string } {
  const slash = s.indexOf('/');
  const first = slash === -1 ? '' : s.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = s;
  } else {
    domain = first;
    remainder = s.slice(slash + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses what a user typed into its normalised parts, keeping tag and digest as given (no default tag).
 * Throws InvalidArgumentError with docker's wording.
 */
export function parseReference(input: string): Reference {
  if (HEX64_RE.test(input)) {
    throw new InvalidArgumentError(
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalid(`repository name (${remote}) must be lowercase`);
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) {
    if (input === '') throw invalid('repository name must have at least one component');
    throw invalid(JSON.stringify(input));
  }
  const name = m[1]!;
  if (name.length > NAME_MAX) {
    throw invalid(`repository name must not be more than ${NAME_MAX} characters: ${JSON.stringify(input)}`);
  }
  const split = DOMAIN_RE.exec(name)!; // NAME always carries the domain we prefixed
  const tag = m[2];
  const digest = m[3];
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw invalid(`unsupported digest ${JSON.stringify(digest)} (want sha256:<64 lowercase hex>)`);
  }
  return {
    domain: split[1]!,
    path: split[2]!,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest: digest as Digest } : {}),
  };
}

/**
 * The reference the store keys on: `latest` when neither tag nor digest was given; when both were, the digest
 * wins (the tag cannot change what a digest names, so docker ignores it).
 */
export function normalizeReference(input: string): Reference {
  const ref = parseReference(input);
  if (ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return { domain: ref.domain, path: ref.path, tag: ref.tag ?? DEFAULT_TAG };
}

/** `docker.io/library/busybox` */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The normalised string: `docker.io/library/busybox:latest`, `host:5000/a/b@sha256:...`. */
export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Normalises in one step: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeName(input: string): string {
  return formatReference(normalizeReference(input));
}

/** The short repository name users see: docker.io and library/ are dropped. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** `docker.io/library/busybox:1` → `busybox:1`; accepts a Reference or any reference string. */
export function familiarName(ref: Reference | string): string {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  let s = familiarRepository(r);
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
