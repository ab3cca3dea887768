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

/** Newest first, then by number (highest first) for jobs of the same instant. */
export function compareJobs(a: IJob, b: IJob): number {
  if (a.created !== b.created) {
    return a.created < b.created ? 1 : -1;
  }
  return b.number - a.number;
}

/**
 * Group jobs by the notebook their kernel serves; jobs of a kernel with no
 * notebook get a section of their own. Sections are ordered by path, the
 * kernel-only ones last.
 */
export function groupJobs(
  jobs: IJob[],
  kernels: IKernelSummary[] = []
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
    const path = job.paths[0] ?? null;
    const entry = path
      ? section(path, path)
      : section(`kernel:${job.kernel_id}`, null);
    entry.jobs.push(job);
    if (!entry.kernelIds.includes(job.kernel_id)) {
      entry.kernelIds.push(job.kernel_id);
    }
  }
  for (const kernel of kernels) {
    const path = kernel.paths[0] ?? null;
    const entry = path
      ? section(path, path)
      : section(`kernel:${kernel.kernel_id}`, null);
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
