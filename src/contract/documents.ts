/**
 * The published contract as documents: an OpenAPI 3.1 document of the platform callback API
 * (platform-api.md) and a JSON Schema (2020-12) of the bootstrap payload (payload.md), built
 * from the zod schemas. `npm run contract` writes them to docs/contract/; a test fails when
 * the checked-in files differ from what this builds.
 */
import { z } from 'zod';
import { payloadSchema } from '../payload/schema.js';
import { CONTRACT_SCHEMAS } from './schemas.js';

/** Where the documents are checked in, relative to the repository root. */
export const CONTRACT_DIR = 'docs/contract';
export const OPENAPI_FILE = 'openapi.json';
export const PAYLOAD_SCHEMA_FILE = 'payload.schema.json';

const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const SCHEMA_REF = '#/components/schemas/';

type JsonObject = Record<string, unknown>;

/** Omits the long pattern zod adds to ISO timestamps: `format: date-time` says it. */
function override(ctx: { jsonSchema: JsonObject }): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

/** The zod schemas as `components/schemas`, referring to each other by `#/components/schemas/…`. */
export function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string; description?: string }>();
  for (const [id, schema] of Object.entries(CONTRACT_SCHEMAS)) {
    registry.add(schema, { id, description: schema.description });
  }
  // `input`: what a reader must accept. Objects the worker sends are strict (no other
  // properties); answers it reads may carry more than it reads.
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    uri: (id) => `${SCHEMA_REF}${id}`,
    override,
  }) as { schemas: Record<string, JsonObject> };
  const out: Record<string, JsonObject> = {};
  for (const id of Object.keys(CONTRACT_SCHEMAS)) {
    const { $schema: _dialect, $id: _id, ...schema } = schemas[id] as JsonObject;
    out[id] = schema;
  }
  return out;
}

const jsonBody = (name: string) => ({
  content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}${name}` } } },
});

const errorAnswer = {
  description:
    'Not accepted. 5xx, 408 and 429 are retried with backoff (a `Retry-After` on 429 or 503 is ' +
    'honoured up to 60 s); any other 4xx is not.',
};

/** The OpenAPI 3.1 document of the callback API. */
export function openApiDocument(): JsonObject {
  const parameters = [
    { $ref: '#/components/parameters/JobId' },
    { $ref: '#/components/parameters/UserAgent' },
  ];
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: 'Viberator platform callback API',
      version: '1',
      description:
        'The calls the Viberator worker makes to its platform while it runs a job. The worker is ' +
        'the client; the base URL is `callback.url` of the payload. Every request carries ' +
        '`Authorization: Bearer <callback.token>`, `Content-Type: application/json` and ' +
        '`User-Agent: viberator-worker/<version>`. Generated from src/contract/schemas.ts by ' +
        '`npm run contract`; do not edit.',
    },
    servers: [
      {
        url: '{callbackUrl}',
        description: 'The `callback.url` of the payload.',
        variables: { callbackUrl: { default: 'https://platform.example/api/worker' } },
      },
    ],
    security: [{ bearerAuth: [] }],
    paths: {
      '/jobs/{jobId}/clanker': {
        parameters,
        get: {
          operationId: 'getClanker',
          summary: 'The clanker of a payload that names only a `clankerId`.',
          responses: {
            '200': {
              description: 'The clanker object, as in the payload.',
              ...jsonBody('Clanker'),
            },
            default: errorAnswer,
          },
        },
      },
      '/jobs/{jobId}/secrets': {
        parameters,
        post: {
          operationId: 'getSecrets',
          summary: 'The values of the `platform:` secret refs, all keys in one request.',
          requestBody: { required: true, ...jsonBody('SecretsRequest') },
          responses: {
            '200': {
              description: 'Values by key; a key absent from the answer is missing.',
              ...jsonBody('SecretsAnswer'),
            },
            default: errorAnswer,
          },
        },
      },
      '/jobs/{jobId}/events': {
        parameters,
        post: {
          operationId: 'postEvents',
          summary:
            'A batch of events, in seq order (at most one request in flight); an empty batch ' +
            'is a heartbeat, sent at least every 15 s while the job runs.',
          description:
            'A retried batch resends the same seq values, so the platform can drop duplicates. ' +
            'Any answer whose JSON body has `"cancel": true` (non-2xx answers included) asks ' +
            'the worker to stop the job.',
          requestBody: { required: true, ...jsonBody('EventsRequest') },
          responses: {
            '2XX': { description: 'Accepted.', ...jsonBody('EventsAnswer') },
            default: errorAnswer,
          },
        },
      },
      '/jobs/{jobId}/result': {
        parameters,
        post: {
          operationId: 'postResult',
          summary: 'The Result, once at the end; retried until accepted or 5 minutes have passed.',
          requestBody: { required: true, ...jsonBody('Result') },
          responses: { '2XX': { description: 'Accepted.' }, default: errorAnswer },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The `callback.token` of the payload.',
        },
      },
      parameters: {
        JobId: {
          name: 'jobId',
          in: 'path',
          required: true,
          description: 'The `jobId` of the payload.',
          schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
        },
        UserAgent: {
          name: 'User-Agent',
          in: 'header',
          required: true,
          description: '`viberator-worker/<version>`: the version of the worker package.',
          schema: { type: 'string', pattern: '^viberator-worker/[0-9A-Za-z.+-]+$' },
        },
      },
      schemas: componentSchemas(),
    },
  };
}

/** The JSON Schema (2020-12) of the bootstrap payload, as the platform writes it (defaults optional). */
export function payloadJsonSchema(): JsonObject {
  const { $schema, ...schema } = z.toJSONSchema(payloadSchema, { io: 'input', override });
  return {
    $schema: $schema ?? JSON_SCHEMA_DIALECT,
    title: 'Viberator bootstrap payload, version 1',
    description:
      'The job a Viberator worker runs (payload.md). Unknown properties are ignored. Generated ' +
      'from src/payload/schema.ts by `npm run contract`; do not edit. Checks that JSON Schema ' +
      'cannot express (shell metacharacters in keys, skill file paths, URL rules) are the ' +
      "worker's own.",
    ...schema,
  };
}

/** The files of docs/contract/, by name, as written (2-space JSON and a final newline). */
export function contractFiles(): Record<string, string> {
  const text = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    [OPENAPI_FILE]: text(openApiDocument()),
    [PAYLOAD_SCHEMA_FILE]: text(payloadJsonSchema()),
  };
}
