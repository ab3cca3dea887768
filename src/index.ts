import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { BgJobsClient } from './api';
import { JobsModel } from './model';
import { JobsPanel } from './panel';

import jobsIconSvg from '../style/icons/jobs.svg';

/** The icon of the sidebar tab. */
export const jobsIcon = new LabIcon({
  name: 'jupyter-bgjobs:jobs',
  svgstr: jobsIconSvg
});

/** The "Background Jobs" sidebar, fed by the server extension. */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-bgjobs:sidebar',
  description: 'The Background Jobs sidebar: the jobs of every kernel.',
  autoStart: true,
  optional: [ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_bgjobs');
    const client = new BgJobsClient(app.serviceManager.serverSettings);
    const model = new JobsModel({ client });
    const panel = new JobsPanel(model, translator ?? nullTranslator);
    panel.id = 'jupyter-bgjobs-sidebar';
    panel.title.icon = jobsIcon;
    panel.title.caption = trans.__('Background Jobs');
    app.shell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }
    void model.refresh().catch(() => undefined);
  }
};

export default [sidebarPlugin];
