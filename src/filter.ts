import { IJob, JobGroupName, STATUS_GROUP } from './api';
import { jobLabel } from './format';

/** Which group of states the panel shows: one group, or all of them. */
export type GroupFilter = JobGroupName | 'all';

/**
 * Whether a job passes the panel's filters: its group, and a text that must
 * occur (case-insensitively) in its name, code, number, status or notebook.
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
  const haystack = [
    jobLabel(job),
    job.name ?? '',
    job.code,
    `#${job.number}`,
    job.status,
    ...paths
  ];
  return haystack.some(value => value.toLowerCase().includes(needle));
}
