import { z } from 'zod';
import type { Operation } from './operations.ts';

/**
 * The OpenAPI 3.1 document of the native API, generated from the operations' schemas (the same objects that
 * validate requests). Request shapes are given as the client sends them (zod's input side).
 */
export function openApiDocument(operations: readonly Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = op.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...[...op.path.matchAll(/:(\w+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...queryParameters(op.query),
    ];
    const produces = op.produces ?? 'application/json';
    paths[path] ??= {};
    paths[path][op.method.toLowerCase()] = {
      summary: op.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } },
          }
        : {}),
      ...(op.consumes
        ? {
            requestBody: {
              required: true,
              content: { [op.consumes]: { schema: { type: 'string', format: 'binary' } } },
            },
          }
        : {}),
      responses: {
        ...(op.upgrade
          ? { '101': { description: 'connection taken over: raw bytes both ways (Upgrade: tcp)' } }
          : produces === 'none'
            ? { '204': { description: 'done' } }
            : { '200': { description: 'success', content: { [produces]: {} } } }),
        '400': errorResponse(
          'invalid request: malformed JSON, unknown or wrongly typed field, body too large',
        ),
        '404': errorResponse('no such object'),
        '409': errorResponse('conflict with the object’s state'),
        '500': errorResponse('internal error'),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'hyperbox native API',
      version,
      description:
        'What the docker Engine API (served on the same socket) has no words for, and the engine shapes that the ' +
        'hyperbox CLI uses over the daemon. Errors: {"message", "code"} where code is a HyperboxError code.',
    },
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['message', 'code'],
          properties: { message: { type: 'string' }, code: { type: 'string' } },
        },
      },
    },
  };
}

function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

function queryParameters(query: z.ZodType | undefined): unknown[] {
  if (!query) return [];
  const s = jsonSchema(query) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema,
  }));
}

function errorResponse(description: string): unknown {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}
