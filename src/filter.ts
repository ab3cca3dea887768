import { IJob, JobGroupName, STATUS_GROUP } from './api';
import { SEARCH_FIELDS } from './jobschema';

/** Which group of states the panel shows: one group, or all of them. */
export type GroupFilter = JobGroupName | 'all';

/**
 * Whether a job passes the panel's filters: its group, and a text that must
 * occur (case-insensitively) in one of the fields the job schema lists for a
 * search (`x-search`), the same fields the server's REST `q` looks in.
 *
 * @param paths the job's notebook paths as the panel shows them (the model
 * remembers them after the kernel's session ended)
 */
export function matchesFilter(
  job: IJob,
  group: GroupFilter,
  text: string,
  paths: readonly string[] = job.paths
): boolean {
  if (group !== 'all' && STATUS_GROUP[job.status] !== group) {
    return false;
  }
  const needle = text.trim().toLowerCase();
  if (!needle) {
    return true;
  }
  const record = { ...job, paths };
  return SEARCH_FIELDS.some(field =>
    searchableText(record, field).some(value =>
      value.toLowerCase().includes(needle)
    )
  );
}

/**
 * The texts a search looks at in one field: `error.evalue` is the field
 * `evalue` of `error`, a list gives each of its items, a missing or null
 * field gives none.
 */
export function searchableText(record: object, field: string): string[] {
  let value: unknown = record;
  for (const key of field.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return [];
    }
    value = (value as Record<string, unknown>)[key];
  }
  const values = Array.isArray(value) ? value : [value];
  return values
    .filter(item => typeof item === 'string' || typeof item === 'number')
    .map(String);
}
