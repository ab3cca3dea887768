/**
 * The TypeScript side of the job record held to its one definition,
 * jupyter_bgjobs/job.schema.json: a field added to (or changed in) the
 * schema and not carried by `IJob` and `parseJob` fails here.
 */
import {
  JOB_KINDS,
  JOB_STATUSES,
  JobKind,
  JobStatus,
  STATUS_GROUP
} from '../api';
import { JOB_FIELDS, parseJob } from '../events';
import { searchableText } from '../filter';
import { IFieldSchema, JOB_SCHEMA, SEARCH_FIELDS } from '../jobschema';
import { makeJob } from './fixtures';

/** One value of each JSON type. */
const SAMPLES: Record<string, unknown> = {
  string: 'text',
  integer: 3,
  number: 2.5,
  boolean: true,
  null: null,
  array: [],
  object: {}
};

function typesOf(schema: IFieldSchema): string[] {
  if (schema.enum) {
    return [];
  }
  const type = schema.type ?? [];
  return Array.isArray(type) ? type : [type];
}

/** Whether a sample of JSON type `type` is allowed by the schema's `types`. */
function allowed(types: string[], type: string): boolean {
  return (
    types.includes(type) || (type === 'integer' && types.includes('number'))
  );
}

/**
 * Values the schema refuses for a field: each JSON type it does not allow,
 * a word outside an enum, and (for an object) the object without each of
 * its required fields or with one of them wrong.
 */
function refusedValues(
  schema: IFieldSchema,
  valid: unknown
): [string, unknown][] {
  if (schema.enum) {
    return [
      ['a word outside the enum', 'not-in-the-enum'],
      ['null', null]
    ];
  }
  const types = typesOf(schema);
  const refused: [string, unknown][] = Object.entries(SAMPLES)
    .filter(([type]) => !allowed(types, type))
    .filter(([type]) => !(type === 'number' && types.includes('integer')))
    .map(([type, sample]) => [`a ${type}`, sample]);
  if (schema.items && Array.isArray(valid)) {
    for (const [what, item] of refusedValues(schema.items, 'x')) {
      refused.push([`a list holding ${what}`, [item]]);
    }
  }
  if (schema.properties && typeof valid === 'object' && valid !== null) {
    const record = valid as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      const { [key]: _, ...without } = record;
      refused.push([`an object without ${key}`, without]);
      for (const [what, value] of refusedValues(
        schema.properties[key],
        record[key]
      )) {
        refused.push([
          `an object with ${key} ${what}`,
          { ...record, [key]: value }
        ]);
      }
    }
  }
  return refused;
}

/** A job with every nullable object field filled, so its inner fields are checked too. */
function fullJob() {
  return makeJob({
    error: { ename: 'E', evalue: 'v', traceback: ['t'] },
    progress: { done: 1, total: 2, desc: 'd' },
    name: 'n',
    group: 'g',
    paths: ['a.ipynb']
  });
}

describe('the job schema and the TypeScript record', () => {
  it('has the same fields as IJob and parseJob, all required', () => {
    const fields = Object.keys(JOB_SCHEMA.properties).sort();
    expect([...JOB_FIELDS].sort()).toEqual(fields);
    // makeJob builds an IJob literal: the compiler holds it to the type.
    expect(Object.keys(makeJob()).sort()).toEqual(fields);
    expect([...JOB_SCHEMA.required].sort()).toEqual(fields);
  });

  it('lists the states and kinds of the TypeScript types', () => {
    const kinds: Record<JobKind, true> = {
      expr: true,
      func: true,
      cell: true,
      map: true
    };
    expect([...JOB_KINDS].sort()).toEqual(Object.keys(kinds).sort());
    const statuses: JobStatus[] = Object.keys(STATUS_GROUP) as JobStatus[];
    expect([...JOB_STATUSES].sort()).toEqual(statuses.sort());
  });

  it('groups the states as the schema does', () => {
    const groups: Record<string, string[]> = {};
    for (const [status, group] of Object.entries(STATUS_GROUP)) {
      (groups[group] ??= []).push(status);
    }
    expect(groups).toEqual(JOB_SCHEMA.properties.status['x-groups']);
  });

  it('parses a job that the schema allows', () => {
    expect(parseJob(fullJob())).toEqual(fullJob());
    expect(parseJob(makeJob())).toEqual(makeJob());
  });

  const cases: [string, string, unknown][] = [];
  for (const field of Object.keys(JOB_SCHEMA.properties)) {
    const job = fullJob() as unknown as Record<string, unknown>;
    cases.push([field, 'missing', undefined]);
    for (const [what, value] of refusedValues(
      JOB_SCHEMA.properties[field],
      job[field]
    )) {
      cases.push([field, what, value]);
    }
  }

  it.each(cases)('refuses a job whose %s is %s', (field, _, value) => {
    const job = fullJob() as unknown as Record<string, unknown>;
    if (value === undefined) {
      delete job[field];
    } else {
      job[field] = value;
    }
    expect(parseJob(job)).toBeNull();
  });

  it('searches fields that a job has', () => {
    const job = fullJob();
    for (const field of SEARCH_FIELDS) {
      expect([field, searchableText(job, field).length]).not.toEqual([
        field,
        0
      ]);
    }
  });
});
