import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  clearIcon,
  kernelIcon,
  launchIcon,
  notebookIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { IJob, IKernelSummary, isActive } from './api';
import { baseName } from './format';
import { IJobSection } from './grouping';
import { IJobActions, JobRow } from './jobrow';
import { OutputRendering } from './outputview';
import { JobsViewState } from './viewstate';
import { IJobsModel } from './tokens';

/** The jobs of one notebook (or kernel), under a header that folds them. */
export function JobSection(props: {
  section: IJobSection;
  /** How many ended jobs the model holds here, whatever the filters show. */
  ended: number;
  model: IJobsModel;
  state: JobsViewState;
  actions: IJobActions;
  rendering: OutputRendering;
  trans: TranslationBundle;
}): JSX.Element {
  const { section, ended, model, state, actions, rendering, trans } = props;
  const collapsed = state.isCollapsed(section.key);
  const kernels = section.kernelIds
    .map(id => model.getKernel(id))
    .filter((kernel): kernel is IKernelSummary => kernel !== undefined);
  const running = section.jobs.filter(job => isActive(job.status)).length;
  const Caret = collapsed ? caretRightIcon : caretDownIcon;
  const Icon = section.path ? notebookIcon : kernelIcon;
  const onToggleRow = (job: IJob) => state.toggleExpanded(job.uid);
  const headerId = `jp-bgjobs-section-${encodeURIComponent(section.key)}`;
  const listId = `${headerId}-jobs`;
  const title = sectionTitle(section, kernels, trans);
  const toggle = () => state.toggleCollapsed(section.key);

  return (
    <section
      className="jp-bgjobs-section"
      data-path={section.path ?? ''}
      aria-labelledby={headerId}
    >
      <div className="jp-bgjobs-section-header" onClick={toggle}>
        <button
          type="button"
          className="jp-bgjobs-toggle jp-bgjobs-caret"
          aria-expanded={!collapsed}
          aria-controls={listId}
          aria-label={
            collapsed
              ? trans.__('Show the jobs of %1', title)
              : trans.__('Hide the jobs of %1', title)
          }
          onClick={event => {
            event.stopPropagation();
            toggle();
          }}
        >
          <Caret.react tag="span" />
        </button>
        <Icon.react tag="span" className="jp-bgjobs-section-icon" />
        <h3
          id={headerId}
          className="jp-bgjobs-section-title"
          title={section.path ?? section.kernelIds.join(', ')}
        >
          {title}
        </h3>
        <span className="jp-bgjobs-section-count">
          {running > 0
            ? trans.__('%1 running', running)
            : trans._n('%1 job', '%1 jobs', section.jobs.length)}
        </span>
        <button
          type="button"
          className="jp-bgjobs-action jp-bgjobs-clear-history jp-Button jp-mod-minimal"
          title={
            ended > 0
              ? trans.__('Clear the history of %1', title)
              : trans.__('%1 has no ended jobs to clear', title)
          }
          aria-label={trans.__('Clear the history of %1', title)}
          // Focusable while there is nothing to clear, and a click on it
          // never folds the section.
          aria-disabled={ended === 0}
          onClick={event => {
            event.stopPropagation();
            if (ended === 0) {
              return;
            }
            actions.clearHistory(
              section.path
                ? { path: section.path }
                : { kernel_id: section.kernelIds[0] }
            );
          }}
        >
          <clearIcon.react tag="span" elementSize="small" />
        </button>
        {section.path && (
          <button
            type="button"
            className="jp-bgjobs-action jp-Button jp-mod-minimal"
            title={trans.__('Open %1', section.path)}
            aria-label={trans.__('Open %1', section.path)}
            onClick={event => {
              event.stopPropagation();
              actions.openNotebook(section.path as string);
            }}
          >
            <launchIcon.react tag="span" elementSize="small" />
          </button>
        )}
      </div>
      {!collapsed && (
        <div id={listId}>
          {kernels.map(kernel => (
            <KernelNote key={kernel.kernel_id} kernel={kernel} trans={trans} />
          ))}
          {section.jobs.length > 0 && (
            <ul className="jp-bgjobs-rows">
              {section.jobs.map(job => (
                <JobRow
                  key={job.uid}
                  job={job}
                  model={model}
                  expanded={state.isExpanded(job.uid)}
                  onToggle={onToggleRow}
                  actions={actions}
                  rendering={rendering}
                  trans={trans}
                />
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

/** The notebook's file name, or the kernel's name and short id. */
function sectionTitle(
  section: IJobSection,
  kernels: IKernelSummary[],
  trans: TranslationBundle
): string {
  if (section.path) {
    return baseName(section.path);
  }
  const id = section.kernelIds[0] ?? '';
  const name = kernels[0]?.kernel_name;
  return name
    ? trans.__('Kernel %1 (%2)', name, id.slice(0, 8))
    : trans.__('Kernel %1', id.slice(0, 8));
}

/**
 * Says when background jobs do not work (or not yet) in a kernel, and what
 * happened to a ready kernel's connection (the relay's comm was closed by
 * code in the kernel and opened again).
 */
function KernelNote(props: {
  kernel: IKernelSummary;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { kernel, trans } = props;
  if (kernel.bgjobs === 'ready') {
    return kernel.reason ? (
      <div className="jp-bgjobs-kernel-note" data-bgjobs="note">
        {trans.__('Kernel %1: %2', kernel.kernel_name, kernel.reason)}
      </div>
    ) : null;
  }
  if (kernel.bgjobs === 'connecting') {
    return (
      <div className="jp-bgjobs-kernel-note" data-bgjobs="connecting">
        {trans.__('Connecting to kernel %1…', kernel.kernel_name)}
      </div>
    );
  }
  return (
    <div
      className="jp-bgjobs-kernel-note jp-mod-unavailable"
      data-bgjobs="unavailable"
    >
      {kernel.reason
        ? trans.__(
            'Background jobs are unavailable in kernel %1: %2',
            kernel.kernel_name,
            kernel.reason
          )
        : trans.__(
            'Background jobs are unavailable in kernel %1.',
            kernel.kernel_name
          )}
    </div>
  );
}
