/**
 * The job record's one definition, `jupyter_bgjobs/job.schema.json`: the
 * JSON Schema the kernel, the server and the REST documents are checked
 * against too. The frontend reads from it what it does at run time (the
 * fields a text search looks in, the states and kinds); `IJob` and
 * `parseJob` are held to it by the jest test `jobschema.spec.ts`.
 */

/** The part of JSON Schema the job schema uses. */
export interface IFieldSchema {
  type?: string | string[];
  enum?: readonly unknown[];
  required?: readonly string[];
  properties?: Record<string, IFieldSchema>;
  additionalProperties?: boolean;
  items?: IFieldSchema;
  pattern?: string;
  minimum?: number;
  maxLength?: number;
  description?: string;
  /** For `status`: the user-facing groups of states. */
  'x-groups'?: Record<string, readonly string[]>;
}

/** The job schema, with its `x-search` extension. */
export interface IJobSchema extends IFieldSchema {
  $id: string;
  required: readonly string[];
  properties: Record<string, IFieldSchema>;
  'x-search': { description: string; fields: readonly string[] };
}

// The schema lives in the Python package, out of TypeScript's rootDir (src/),
// so an `import` cannot reach it; webpack and jest resolve this require.
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const JOB_SCHEMA: IJobSchema = require('../jupyter_bgjobs/job.schema.json');

/**
 * The fields a text search looks in, as the server's REST `q` does:
 * `error.evalue` is the field `evalue` of `error`; a list field matches by
 * any of its items.
 */
export const SEARCH_FIELDS: readonly string[] = JOB_SCHEMA['x-search'].fields;

/** The values a field of the schema allows (`status`, `kind`). */
export function enumOf<T>(field: string): readonly T[] {
  const values = JOB_SCHEMA.properties[field]?.enum;
  if (!values) {
    throw new Error(`the job schema has no enum field ${field}`);
  }
  return values as readonly T[];
}
