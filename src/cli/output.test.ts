import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { type ListSpec, printInspect, printList } from './output.ts';

interface Row {
  name: string;
  driver: string;
}
const rows: Row[] = [
  { name: 'data', driver: 'local' },
  { name: 'cache-volume', driver: 'local' },
];
const spec: ListSpec<Row> = {
  columns: [
    { header: 'DRIVER', cell: (r) => r.driver },
    { header: 'VOLUME NAME', cell: (r) => r.name },
  ],
  id: (r) => r.name,
  view: (r) => ({ Name: r.name, Driver: r.driver }),
  headers: { Name: 'VOLUME NAME' },
};

function printed(fn: (out: NodeJS.WritableStream) => void): string {
  const out = new PassThrough();
  fn(out);
  return out.read()?.toString() ?? '';
}

describe('list and inspect output', () => {
  it('prints the default table, ids with -q, JSON lines and templates of the docker view', () => {
    assert.equal(
      printed((o) => printList(o, rows, spec, {})),
      'DRIVER   VOLUME NAME\nlocal    data\nlocal    cache-volume\n',
    );
    assert.equal(
      printed((o) => printList(o, rows, spec, { quiet: true })),
      'data\ncache-volume\n',
    );
    assert.equal(
      printed((o) => printList(o, rows, spec, { format: 'json' })),
      '{"Name":"data","Driver":"local"}\n{"Name":"cache-volume","Driver":"local"}\n',
    );
    assert.equal(
      printed((o) => printList(o, rows, spec, { format: '{{.Name}}' })),
      'data\ncache-volume\n',
    );
  });

  it("prints a `table` template with docker's headers, aligned", () => {
    assert.equal(
      printed((o) => printList(o, rows, spec, { format: 'table {{.Name}}\\t{{.Driver}}' })),
      'VOLUME NAME    DRIVER\ndata           local\ncache-volume   local\n',
    );
    assert.equal(
      printed((o) => printList(o, [], spec, { format: 'table {{.CreatedAt}}' })),
      'CREATED AT\n',
    );
  });

  it('prints inspect as a JSON array indented by four, or a template per object', () => {
    assert.equal(
      printed((o) => printInspect(o, [{ A: 1 }])),
      '[\n    {\n        "A": 1\n    }\n]\n',
    );
    assert.equal(
      printed((o) => printInspect(o, [{ A: 1 }, { A: 2 }], '{{.A}}')),
      '1\n2\n',
    );
  });
});
