import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** The operator API's OpenAPI 3.1 document. */
export const adminApiDocument = JSON.parse(readFileSync(fileURLToPath(new URL('../../src/admin/openapi.json', import.meta.url)), 'utf8')) as {
  paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string; content?: Record<string, unknown> }> }>>;
  components: { responses: Record<string, { content?: Record<string, unknown> }> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(adminApiDocument, 'openapi');

const escape = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');

/** The documented path template a request path falls under (`/groups/{group}` for `/groups/alice%2Fv1`). */
function templateOf(path: string): string {
  const bare = path.split('?')[0]!;
  for (const template of Object.keys(adminApiDocument.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(bare)) return template;
  }
  throw new Error(`${bare} is not documented in src/admin/openapi.json`);
}

/**
 * Checks a real answer against the document: the path, method and status must be
 * documented, and the JSON body must match the schema there. Throws with the validator's
 * findings otherwise.
 */
export function expectDocumented(method: string, path: string, status: number, body: unknown): void {
  const template = templateOf(path);
  const operation = adminApiDocument.paths[template]![method.toLowerCase()];
  const response = operation?.responses?.[String(status)];
  if (response === undefined) throw new Error(`${method} ${template} → ${status} is not documented`);
  const pointer = response.$ref
    ? `${response.$ref.slice(1)}/content/application~1json/schema`
    : `/paths/${escape(template)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = ajv.compile({ $ref: `openapi#${pointer}` });
  if (!validate(body)) throw new Error(`${method} ${path} → ${status} does not match the document: ${ajv.errorsText(validate.errors)}`);
}
