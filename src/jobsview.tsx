import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { InputGroup, ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { GroupFilter, matchesFilter } from './filter';
import { groupJobs } from './grouping';
import { endedBySection } from './history';
import { IJobActions } from './jobrow';
import { OutputRendering } from './outputview';
import { JobSection } from './section';
import { IJobsModel } from './tokens';
import { JobsViewState } from './viewstate';

/** The body of the panel: filters, then the jobs grouped by notebook. */
export class JobsView extends ReactWidget {
  constructor(options: JobsView.IOptions) {
    super();
    this._model = options.model;
    this._state = options.state;
    this._actions = options.actions;
    this._rendering = options.rendering;
    this._trans = options.translator.load('jupyter_bgjobs');
    this.addClass('jp-bgjobs-view');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => (
          <UseSignal signal={this._state.changed}>
            {() => (
              <JobsBody
                model={this._model}
                state={this._state}
                actions={this._actions}
                rendering={this._rendering}
                trans={this._trans}
              />
            )}
          </UseSignal>
        )}
      </UseSignal>
    );
  }

  private _model: IJobsModel;
  private _state: JobsViewState;
  private _actions: IJobActions;
  private _rendering: OutputRendering;
  private _trans: TranslationBundle;
}

export namespace JobsView {
  export interface IOptions {
    model: IJobsModel;
    state: JobsViewState;
    actions: IJobActions;
    /** How the jobs' tracebacks and output are rendered. */
    rendering: OutputRendering;
    translator: ITranslator;
  }
}

interface IBodyProps {
  model: IJobsModel;
  state: JobsViewState;
  actions: IJobActions;
  rendering: OutputRendering;
  trans: TranslationBundle;
}

function JobsBody(props: IBodyProps): JSX.Element {
  const { model } = props;
  return (
    <div
      className="jp-bgjobs-body"
      data-connection={model.connection}
      data-update-source={model.updateSource}
    >
      <FilterBar {...props} />
      <ConnectionBanner {...props} />
      <JobsList {...props} />
    </div>
  );
}

function FilterBar(props: IBodyProps): JSX.Element {
  const { model, state, trans } = props;
  const { counts } = model;
  const groups: [GroupFilter, string, number][] = [
    ['all', trans.__('All'), counts.running + counts.finished + counts.dead],
    ['running', trans.__('Running'), counts.running],
    ['finished', trans.__('Finished'), counts.finished],
    ['dead', trans.__('Dead'), counts.dead]
  ];
  return (
    <div className="jp-bgjobs-filterbar">
      <div
        className="jp-bgjobs-groups"
        role="group"
        aria-label={trans.__('Show jobs')}
      >
        {groups.map(([group, label, count]) => (
          <button
            key={group}
            type="button"
            className={`jp-bgjobs-group${
              state.group === group ? ' jp-mod-active' : ''
            }`}
            data-group={group}
            aria-pressed={state.group === group}
            onClick={() => (state.group = group)}
          >
            {label}
            <span className="jp-bgjobs-group-count">{count}</span>
          </button>
        ))}
      </div>
      <InputGroup
        className="jp-bgjobs-search"
        type="search"
        placeholder={trans.__('Filter by name or code')}
        aria-label={trans.__('Filter jobs')}
        value={state.query}
        onChange={event => (state.query = event.target.value)}
        rightIcon="ui-components:search"
      />
    </div>
  );
}

/** While the server does not answer, the list stays but says it is stale. */
function ConnectionBanner(props: IBodyProps): JSX.Element | null {
  const { model, trans } = props;
  if (model.connection !== 'unreachable' || model.jobs.length === 0) {
    return null;
  }
  return (
    <div className="jp-bgjobs-banner jp-mod-error" role="alert">
      {trans.__(
        'Cannot reach the server (%1). Showing the jobs as they were; retrying.',
        model.error
      )}
    </div>
  );
}

function JobsList(props: IBodyProps): JSX.Element {
  const { model, state, trans } = props;
  if (model.connection === 'missing') {
    return (
      <Message error>
        {trans.__(
          'The jupyter_bgjobs server extension is not running on this Jupyter server, so no jobs can be shown. Install jupyter-bgjobs in the environment of the server, check that "jupyter server extension list" shows jupyter_bgjobs enabled, then restart JupyterLab.'
        )}
      </Message>
    );
  }
  if (model.connection === 'unreachable' && model.jobs.length === 0) {
    return (
      <Message error>
        {trans.__(
          'Cannot reach the Jupyter server (%1). Retrying; check that the server is still running.',
          model.error
        )}
      </Message>
    );
  }
  if (model.connection === 'connecting') {
    return <Message>{trans.__('Loading background jobs…')}</Message>;
  }
  const filtering = state.group !== 'all' || state.query.trim() !== '';
  const visible = model.jobs.filter(job =>
    matchesFilter(job, state.group, state.query, model.pathsOf(job))
  );
  const sections = groupJobs(visible, filtering ? [] : model.kernels, job =>
    model.pathsOf(job)
  ).filter(
    section =>
      section.jobs.length > 0 ||
      section.kernelIds.some(
        id => model.getKernel(id)?.bgjobs === 'unavailable'
      )
  );
  if (sections.length === 0) {
    return (
      <Message>
        {filtering
          ? trans.__('No jobs match the filter.')
          : trans.__(
              'No background jobs yet. Start one in a notebook with %1 or %2.',
              '%job EXPR',
              '%%job'
            )}
      </Message>
    );
  }
  // Counted over every job held, not only those the filters let through:
  // clearing a section's history clears all of its ended jobs.
  const ended = endedBySection(model.jobs, job => model.pathsOf(job));
  return (
    <div className="jp-bgjobs-sections">
      {sections.map(section => (
        <JobSection
          key={section.key}
          section={section}
          ended={ended.get(section.key) ?? 0}
          {...props}
        />
      ))}
    </div>
  );
}

function Message(props: {
  error?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <div
      className={`jp-bgjobs-message${props.error ? ' jp-mod-error' : ''}`}
      role={props.error ? 'alert' : undefined}
    >
      {props.children}
    </div>
  );
}
