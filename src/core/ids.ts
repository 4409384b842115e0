import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors.ts';

/** A container id: 64 hex characters, as docker's. The first 12 are its short form. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * The longest name a container, volume or network may have: a file name's (NAME_MAX), since a volume's name is its
 * directory's. One limit for all three, so that a name that works for one kind works for the others.
 */
export const MAX_NAME_BYTES = 255;

/** Refuses a name longer than MAX_NAME_BYTES, before the file system would (with a host path in its error). */
export function checkNameLength(name: string, kind: 'container' | 'volume' | 'network'): void {
  const bytes = Buffer.byteLength(name);
  if (bytes <= MAX_NAME_BYTES) return;
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  throw new InvalidArgumentError(
    `invalid ${kind} name "${shown}": ${bytes} bytes long, at most ${MAX_NAME_BYTES} are allowed`,
  );
}

/** docker's rule for container and volume names. */
export function validateName(name: string, kind: 'container' | 'volume'): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  checkNameLength(bare, kind);
  if (!NAME_RE.test(bare)) {
    throw new InvalidArgumentError(
      `invalid ${kind} name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters`,
    );
  }
  return bare;
}

// Our own word lists for generated names (docker-style "adjective_noun"); any pair is a valid name.
const ADJECTIVES = [
  'agile',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'daring',
  'eager',
  'fair',
  'fast',
  'fierce',
  'gentle',
  'glad',
  'grand',
  'happy',
  'humble',
  'jolly',
  'keen',
  'kind',
  'lively',
  'lucid',
  'merry',
  'mighty',
  'nimble',
  'noble',
  'patient',
  'placid',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'serene',
  'sharp',
  'shy',
  'steady',
  'sunny',
  'swift',
  'tender',
  'tidy',
  'vivid',
  'warm',
  'wise',
  'witty',
  'zealous',
];
const NOUNS = [
  'anchor',
  'aurora',
  'badger',
  'beacon',
  'birch',
  'canyon',
  'cedar',
  'comet',
  'condor',
  'coral',
  'delta',
  'dune',
  'ember',
  'falcon',
  'fjord',
  'galaxy',
  'glacier',
  'harbor',
  'heron',
  'island',
  'jaguar',
  'lagoon',
  'lantern',
  'maple',
  'meadow',
  'meteor',
  'nebula',
  'oasis',
  'orbit',
  'otter',
  'pebble',
  'pine',
  'prairie',
  'quasar',
  'raven',
  'reef',
  'river',
  'summit',
  'tundra',
  'valley',
  'walrus',
  'willow',
  'zenith',
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const bytes = randomBytes(3);
    const name = `${ADJECTIVES[bytes[0]! % ADJECTIVES.length]}_${NOUNS[bytes[1]! % NOUNS.length]}`;
    const candidate = attempt < 10 ? name : `${name}${bytes[2]}`;
    if (!taken(candidate)) return candidate;
  }
}
