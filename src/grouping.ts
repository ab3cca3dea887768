import { IJob, IKernelSummary } from './api';

/** The jobs of one notebook (or of one kernel that has no notebook). */
export interface IJobSection {
  /** A stable key: the notebook path, or `kernel:<id>`. */
  key: string;
  /** The notebook path, or null for a kernel without one. */
  path: string | null;
  kernelIds: string[];
  jobs: IJob[];
}

/** The key of the section a job or kernel goes to: its notebook, or its kernel. */
export function sectionKey(path: string | null, kernelId: string): string {
  return path ?? `kernel:${kernelId}`;
}

/** Milliseconds since the epoch of an ISO 8601 time (0 when unreadable). */
export function timeOf(iso: string | null): number {
  if (!iso) {
    return 0;
  }
  const time = Date.parse(iso);
  return isNaN(time) ? 0 : time;
}

/**
 * Newest first, then by number (highest first) for jobs of the same instant.
 * Times are compared as times: the server writes `10:00:00Z` and
 * `10:00:00.5Z`, which do not sort as strings.
 */
export function compareJobs(a: IJob, b: IJob): number {
  const byTime = timeOf(b.created) - timeOf(a.created);
  if (byTime !== 0) {
    return byTime;
  }
  if (a.number !== b.number) {
    return b.number - a.number;
  }
  return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

/**
 * Group jobs by the notebook their kernel serves; jobs of a kernel with no
 * notebook get a section of their own. Sections are ordered by path, the
 * kernel-only ones last. Kernels get a section even without jobs, so that a
 * kernel where background jobs are unavailable can say so.
 */
export function groupJobs(
  jobs: readonly IJob[],
  kernels: readonly IKernelSummary[] = [],
  pathsOf: (job: IJob) => readonly string[] = job => job.paths
): IJobSection[] {
  const sections = new Map<string, IJobSection>();
  const section = (key: string, path: string | null): IJobSection => {
    let found = sections.get(key);
    if (!found) {
      found = { key, path, kernelIds: [], jobs: [] };
      sections.set(key, found);
    }
    return found;
  };
  for (const job of jobs) {
    const path = pathsOf(job)[0] ?? null;
    const entry = section(sectionKey(path, job.kernel_id), path);
    entry.jobs.push(job);
    if (!entry.kernelIds.includes(job.kernel_id)) {
      entry.kernelIds.push(job.kernel_id);
    }
  }
  for (const kernel of kernels) {
    const path = kernel.paths[0] ?? null;
    const entry = section(sectionKey(path, kernel.kernel_id), path);
    if (!entry.kernelIds.includes(kernel.kernel_id)) {
      entry.kernelIds.push(kernel.kernel_id);
    }
  }
  const ordered = [...sections.values()];
  for (const entry of ordered) {
    entry.jobs.sort(compareJobs);
  }
  ordered.sort((a, b) => {
    if ((a.path === null) !== (b.path === null)) {
      return a.path === null ? 1 : -1;
    }
    return a.key.localeCompare(b.key);
  });
  return ordered;
}
