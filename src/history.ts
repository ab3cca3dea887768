import { IHistoryScope, IJob, isActive } from './api';
import { sectionKey } from './grouping';

/**
 * The requests that clear the history of one section of the panel.
 *
 * A notebook's section (`{path}`) also shows the jobs of a kernel whose
 * session has ended while the kernel runs on: the server lists those with
 * no path, and the panel puts them under the path it remembers for their
 * kernel. `DELETE jobs?path=` would leave them, so each such kernel is
 * cleared by its id as well: all of its jobs have no path on the server
 * (it gives the jobs of one kernel the same paths), and all show in this
 * section.
 *
 * @param target a notebook path, or the id of a kernel that has no notebook
 * @param jobs the jobs the panel holds
 * @param pathsOf the paths the panel groups a job by
 */
export function historyScopes(
  target: IHistoryScope,
  jobs: readonly IJob[],
  pathsOf: (job: IJob) => readonly string[]
): IHistoryScope[] {
  const path = target.path;
  if (!path) {
    return [target];
  }
  const remembered = new Set<string>();
  for (const job of jobs) {
    if (
      job.paths.length === 0 &&
      !isActive(job.status) &&
      (!target.kernel_id || job.kernel_id === target.kernel_id) &&
      pathsOf(job).includes(path)
    ) {
      remembered.add(job.kernel_id);
    }
  }
  return [target, ...[...remembered].map(kernel_id => ({ kernel_id }))];
}

/**
 * Whether the server's clear of `scope` removes this job: an ended job of
 * that kernel and/or with that path, as the server records it.
 */
export function clearedBy(job: IJob, scope: IHistoryScope): boolean {
  return (
    !isActive(job.status) &&
    (!scope.kernel_id || job.kernel_id === scope.kernel_id) &&
    (!scope.path || job.paths.includes(scope.path))
  );
}

/**
 * How many ended jobs each section of the panel holds, by section key (see
 * `sectionKey`): the panel groups a job by its first path, or its kernel.
 */
export function endedBySection(
  jobs: readonly IJob[],
  pathsOf: (job: IJob) => readonly string[]
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    if (!isActive(job.status)) {
      const key = sectionKey(pathsOf(job)[0] ?? null, job.kernel_id);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * How many ended jobs the panel shows in the section of `target`: a
 * notebook's (`{path}`), or that of a kernel without one (`{kernel_id}`).
 */
export function endedShownIn(
  target: IHistoryScope,
  jobs: readonly IJob[],
  pathsOf: (job: IJob) => readonly string[]
): number {
  const key = sectionKey(target.path ?? null, target.kernel_id ?? '');
  const shown =
    target.path && target.kernel_id
      ? jobs.filter(job => job.kernel_id === target.kernel_id)
      : jobs;
  return endedBySection(shown, pathsOf).get(key) ?? 0;
}
