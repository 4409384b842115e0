import { formatTable } from './table.ts';
import { renderTemplate } from './template.ts';

/**
 * How every list and inspect command prints, as docker's do: a table by default (`--format table`), one line per
 * row of a Go template (`--format '{{.Name}}'`), a table of a template's fields (`--format 'table {{.Name}}'`), JSON
 * lines (`--format json`), or only the ids (`-q`). A command describes its columns once; what a template or JSON
 * sees is the row's docker view, so `{{.Names}}` names what docker's does.
 */
export interface ListSpec<T> {
  /** The default table: a header and a cell per row. */
  columns: readonly { header: string; cell: (row: T) => string }[];
  /** What `-q` prints for a row. */
  id: (row: T) => string;
  /** What a template or `json` sees; the row itself by default. */
  view?: (row: T) => unknown;
  /** Headers of a `table {{.Field}}` template's fields (docker's, e.g. `Names` -> `NAMES`); else the field in capitals. */
  headers?: Readonly<Record<string, string>>;
}

export interface ListFlags {
  quiet?: boolean;
  format?: string;
}

export function printList<T>(
  out: NodeJS.WritableStream,
  rows: readonly T[],
  spec: ListSpec<T>,
  flags: ListFlags,
): void {
  const view = spec.view ?? ((r: T) => r);
  const format = flags.format?.trim();
  if (flags.quiet) {
    for (const r of rows) out.write(`${spec.id(r)}\n`);
    return;
  }
  if (format === undefined || format === '' || format === 'table') {
    out.write(
      formatTable(
        spec.columns.map((c) => c.header),
        rows.map((r) => spec.columns.map((c) => c.cell(r))),
      ),
    );
    return;
  }
  if (format === 'json') {
    for (const r of rows) out.write(`${JSON.stringify(view(r))}\n`);
    return;
  }
  if (format.startsWith('table ')) {
    const template = format.slice('table '.length);
    const header = template.replace(/\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, field: string) => {
      return spec.headers?.[field] ?? field.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
    });
    const lines = [renderTemplate(header, {}), ...rows.map((r) => renderTemplate(template, view(r)))];
    out.write(alignTabs(lines));
    return;
  }
  for (const r of rows) out.write(`${renderTemplate(format, view(r))}\n`);
}

/** `inspect`: docker's JSON array (indented by 4), or a template per object. */
export function printInspect(out: NodeJS.WritableStream, views: readonly unknown[], format?: string): void {
  if (format && format !== 'json') for (const v of views) out.write(`${renderTemplate(format, v)}\n`);
  else out.write(`${JSON.stringify(views, null, 4)}\n`);
}

/** Columns of tab-separated cells padded like docker's tabwriter (minimum width plus three spaces). */
function alignTabs(lines: readonly string[]): string {
  const cells = lines.map((l) => l.split('\t'));
  return formatTable(cells[0] ?? [], cells.slice(1));
}
