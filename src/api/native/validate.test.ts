import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { minimalConfig } from '../../core/container/config-example.ts';
import { HyperboxError } from '../../core/errors.ts';
import { openApiDocument } from './openapi.ts';
import * as s from './schemas.ts';
import { parseBody } from './validate.ts';

const config = { ...minimalConfig(), mounts: [{ type: 'tmpfs', target: '/tmp' }] };

/** The InvalidArgument message a body gets, or undefined when it passes. */
function rejection(raw: string, schema: z.ZodType = s.ContainerCreate): string | undefined {
  try {
    parseBody(raw, schema);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof HyperboxError);
    assert.equal(err.code, 'InvalidArgument');
    return err.message;
  }
}

describe('native request bodies: strict schemas', () => {
  it('accepts a complete container create request', () => {
    const parsed = parseBody(JSON.stringify({ name: 'web', config }), s.ContainerCreate);
    assert.equal(parsed.config.image, 'busybox:1');
    assert.equal(parsed.config.mounts[0]?.type, 'tmpfs');
  });

  it('refuses an unknown field, naming it with its path', () => {
    assert.match(
      rejection(JSON.stringify({ config: { ...config, bogus: 1 } })) ?? '',
      /unknown field "config\.bogus"/,
    );
    assert.match(rejection(JSON.stringify({ config, extra: true })) ?? '', /unknown field "extra"/);
    assert.match(
      rejection(JSON.stringify({ config: { ...config, resources: { memoryy: 5 } } })) ?? '',
      /unknown field "config\.resources\.memoryy"/,
    );
  });

  it('refuses a wrongly typed field, naming the field, the type wanted and the value given', () => {
    const msg = rejection(JSON.stringify({ config: { ...config, tty: 'yes' } })) ?? '';
    assert.match(msg, /field "config\.tty": expected boolean, got string "yes"/);
    assert.match(
      rejection(JSON.stringify({ config: { ...config, resources: { memory: 1.5 } } })) ?? '',
      /field "config\.resources\.memory"/,
    );
    assert.match(
      rejection(JSON.stringify({ name: 'x' })) ?? '',
      /field "config": expected object, got nothing/,
    );
    assert.match(rejection('[1,2]') ?? '', /body: expected object, got array/);
  });

  it('refuses malformed JSON', () => {
    assert.match(rejection('{"config": ') ?? '', /malformed JSON in request body/);
  });

  it('treats an empty body as {} (so that a missing required field is named)', () => {
    assert.equal(rejection('', s.ContainerKill), undefined);
    assert.match(rejection('', s.ContainerRename) ?? '', /field "name"/);
  });

  it('turns query flags into booleans and refuses other values', () => {
    assert.deepEqual(parseBody('{"force":"true"}', s.ContainerRemoveQuery), { force: true });
    assert.match(rejection('{"force":"yes"}', s.ContainerRemoveQuery) ?? '', /field "force"/);
  });
});

describe('/openapi.json', () => {
  const doc = openApiDocument(
    [
      { method: 'POST', path: '/hyperbox/v1/containers', summary: 'create', body: s.ContainerCreate },
      {
        method: 'DELETE',
        path: '/hyperbox/v1/containers/:ref',
        summary: 'rm',
        query: s.ContainerRemoveQuery,
      },
    ],
    '0.0.0',
    // biome-ignore lint/suspicious/noExplicitAny: the document's JSON, walked by the assertions
  ) as { openapi: string; paths: Record<string, Record<string, any>> };

  it('is generated from the same schemas: strict objects, required fields, path and query parameters', () => {
    assert.match(doc.openapi, /^3\./);
    const body = doc.paths['/hyperbox/v1/containers']!.post.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.deepEqual(body.required, ['config']);
    assert.equal(body.properties.config.properties.tty.type, 'boolean');
    assert.equal(body.properties.config.additionalProperties, false);
    const rm = doc.paths['/hyperbox/v1/containers/{ref}']!.delete;
    assert.deepEqual(
      rm.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
      ['path:ref', 'query:force', 'query:volumes'],
    );
  });
});
