import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  launchIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { IHistoryScope, IJob, isActive } from './api';
import { baseName, jobLabel } from './format';
import { JobDetails } from './jobdetails';
import { blockedText, ElapsedTime, ProgressBar, StatusBadge } from './jobparts';
import { OutputRendering } from './outputview';
import { IJobsModel } from './tokens';

/** What a row can ask for; the panel turns these into commands. */
export interface IJobActions {
  kill(job: IJob): void;
  remove(job: IJob): void;
  openNotebook(path: string): void;
  loadDetails(job: IJob): void;
  /** Clear the ended jobs of a notebook (`path`) or kernel (`kernel_id`). */
  clearHistory(target: IHistoryScope): void;
}

/** One job: number, name or code, state, elapsed time, progress, actions. */
export function JobRow(props: {
  job: IJob;
  model: IJobsModel;
  expanded: boolean;
  onToggle: (job: IJob) => void;
  actions: IJobActions;
  rendering: OutputRendering;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, model, expanded, actions, rendering, trans } = props;
  const active = isActive(job.status);
  const path = model.pathsOf(job)[0] ?? null;

  // An ended job no longer changes: fetch its full record once when opened.
  React.useEffect(() => {
    if (expanded && !active) {
      actions.loadDetails(job);
    }
  }, [expanded, active, job.uid]);

  const shown = (!active && model.getDetails(job.uid)) || job;
  const title = job.name ? `${job.name}\n\n${job.code}` : job.code;
  const toggle = () => props.onToggle(job);
  const Caret = expanded ? caretDownIcon : caretRightIcon;

  return (
    <li
      className={`jp-bgjobs-row${expanded ? ' jp-mod-expanded' : ''}`}
      data-uid={job.uid}
      data-status={job.status}
      data-kill-requested={job.kill_requested ? 'true' : undefined}
    >
      {/* A click anywhere on the line opens it; the caret is the button
          for the keyboard and assistive technologies. */}
      <div className="jp-bgjobs-row-main" onClick={toggle}>
        <button
          type="button"
          className="jp-bgjobs-toggle jp-bgjobs-caret"
          aria-expanded={expanded}
          aria-label={
            expanded
              ? trans.__('Hide the details of job %1', job.number)
              : trans.__('Show the details of job %1', job.number)
          }
          onClick={event => {
            event.stopPropagation();
            toggle();
          }}
        >
          <Caret.react tag="span" />
        </button>
        <span className="jp-bgjobs-number">{job.number}</span>
        <code className="jp-bgjobs-code" title={title}>
          {jobLabel(job)}
        </code>
        <span className="jp-bgjobs-meta">
          <StatusBadge job={job} trans={trans} />
          <ElapsedTime job={job} elapsedOf={model.elapsedOf.bind(model)} />
        </span>
        <span className="jp-bgjobs-actions">
          {path && (
            <RowButton
              className="jp-bgjobs-open"
              label={trans.__('Open %1', baseName(path))}
              icon={launchIcon}
              onClick={() => actions.openNotebook(path)}
            />
          )}
          {active ? (
            <RowButton
              className="jp-bgjobs-kill"
              label={trans.__('Kill job %1', job.number)}
              icon={stopIcon}
              onClick={() => actions.kill(job)}
            />
          ) : (
            <RowButton
              className="jp-bgjobs-remove"
              label={trans.__('Remove job %1', job.number)}
              icon={closeIcon}
              onClick={() => actions.remove(job)}
            />
          )}
        </span>
      </div>
      {job.progress && active && <ProgressBar job={job} trans={trans} />}
      {job.kill_requested && active && (
        <div className="jp-bgjobs-blocked">{blockedText(job, trans)}</div>
      )}
      {expanded && (
        <JobDetails
          job={shown}
          rendermime={rendering.registryFor(job, path)}
          trans={trans}
        />
      )}
    </li>
  );
}

function RowButton(props: {
  className: string;
  label: string;
  icon: typeof stopIcon;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      type="button"
      className={`jp-bgjobs-action jp-Button jp-mod-minimal ${props.className}`}
      title={props.label}
      aria-label={props.label}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
      onKeyDown={event => event.stopPropagation()}
    >
      <props.icon.react tag="span" elementSize="small" />
    </button>
  );
}
