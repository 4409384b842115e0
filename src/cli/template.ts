import { InvalidArgumentError } from '../core/errors.ts';

/**
 * The subset of Go templates that `--format` users type most: `{{.Field.Sub}}`, `{{json .Field}}`, `{{.Field}}`
 * mixed with literal text, `{{"\t"}}`-free. Anything else is refused with the template named.
 */
export function renderTemplate(template: string, value: unknown): string {
  if (template === 'json' || template === '{{json .}}') return JSON.stringify(value);
  return template
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n')
    .replace(/\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
      const v = lookup(value, path);
      if (json) return JSON.stringify(v ?? null);
      return goPrint(v);
    })
    .replace(/\{\{.*?\}\}/g, (m) => {
      throw new InvalidArgumentError(`template: unsupported action ${m} in "${template}"`);
    });
}

function lookup(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const part of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** How Go's text/template prints a value: maps as map[k:v], slices as [a b], nil as <nil>. */
function goPrint(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `map[${entries.map(([k, x]) => `${k}:${goPrint(x)}`).join(' ')}]`;
  }
  return String(v);
}
