/**
 * Validates values against the checked-in contract (docs/contract/) with a real JSON Schema
 * validator (ajv, draft 2020-12, formats checked): the OpenAPI document's component schemas
 * and the payload's JSON Schema.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

export const CONTRACT_PATH = resolve(import.meta.dirname, '../../docs/contract');

/** The OpenAPI keywords at the top of the document: not JSON Schema, ignored by ajv. */
const OPENAPI_KEYWORDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'security',
  'paths',
  'components',
];

const OPENAPI_ID = 'urn:viberator:contract:openapi.json';

export function readContractJson(name: string): Record<string, any> {
  return JSON.parse(readFileSync(resolve(CONTRACT_PATH, name), 'utf8'));
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  // ajv-formats is CommonJS: its default import is the plugin itself, typed as the module.
  const addFormats = (formats as unknown as { default: typeof formats.default }).default;
  addFormats(ajv);
  return ajv;
}

/** What went wrong, one line per error; empty when valid. */
export function problems(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error: ErrorObject) =>
      `${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`,
  );
}

/** Validators for the schemas of an OpenAPI document's `components/schemas`, by name. */
export function openApiValidators(
  document: Record<string, any> = readContractJson('openapi.json'),
) {
  const ajv = newAjv();
  ajv.addVocabulary(OPENAPI_KEYWORDS);
  ajv.addSchema({ ...document, $id: OPENAPI_ID });
  const cache = new Map<string, ValidateFunction>();
  /** The validator of `#/components/schemas/<name>`, or of a `$ref` into the document. */
  const validator = (refOrName: string): ValidateFunction => {
    const ref = refOrName.startsWith('#') ? refOrName : `#/components/schemas/${refOrName}`;
    let validate = cache.get(ref);
    if (!validate) {
      validate = ajv.getSchema(`${OPENAPI_ID}${ref}`);
      if (!validate) throw new Error(`no schema at ${ref} in the OpenAPI document`);
      cache.set(ref, validate);
    }
    return validate;
  };
  return {
    validator,
    problems: (refOrName: string, value: unknown) => problems(validator(refOrName), value),
  };
}

/** The validator of the payload's JSON Schema (docs/contract/payload.schema.json by default). */
export function payloadValidator(
  schema: Record<string, any> = readContractJson('payload.schema.json'),
): ValidateFunction {
  return newAjv().compile(schema);
}
