import { InvalidArgumentError } from '../core/errors.ts';

/** Deeper than any request hyperbox or docker reads (a create body nests about six levels). */
export const MAX_JSON_DEPTH = 64;

/**
 * A request body's JSON text, parsed. JSON.parse itself copes with any depth, but what reads the value afterwards
 * (schemas, messages that quote a value) recurses, and a 200k-deep nesting would overflow the stack into a 500:
 * the depth is measured first, in one pass without recursion, and a deeper document is the client's error.
 */
export function parseJsonText(raw: string, where: string): unknown {
  const depth = maxDepth(raw);
  if (depth > MAX_JSON_DEPTH) {
    throw new InvalidArgumentError(
      `malformed JSON in ${where}: nested ${depth} levels deep, at most ${MAX_JSON_DEPTH} are allowed`,
    );
  }
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new InvalidArgumentError(`malformed JSON in ${where}: ${(err as Error).message}`);
  }
}

/** The deepest nesting of objects and arrays outside strings (brackets in strings do not count). */
function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
