import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  IRenderMimeRegistry,
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { IRunningSessionManagers } from '@jupyterlab/running';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { BgJobsClient } from './api';
import { addCommands, CommandIDs, PALETTE_COMMANDS } from './commands';
import { jobsIcon } from './icons';
import { JobsModel } from './model';
import { JobNotifier } from './notifier';
import { OutputRendering } from './outputview';
import { JobsPanel } from './panel';
import { addRunningJobs } from './running';
import { SETTINGS_ID, watchSettings } from './settings';
import { JobsStatus } from './statusbar';
import { IJobsModel } from './tokens';

export { IJobsModel } from './tokens';
export { jobsIcon } from './icons';

const SIDEBAR_ID = 'jupyter-bgjobs-sidebar';

/** The jobs model: push events from the server, polling as a fallback. */
const modelPlugin: JupyterFrontEndPlugin<IJobsModel> = {
  id: SETTINGS_ID,
  description: 'The background jobs of every kernel, kept up to date.',
  autoStart: true,
  provides: IJobsModel,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null
  ): IJobsModel => {
    const { serviceManager } = app;
    const model = new JobsModel({
      client: new BgJobsClient(serviceManager.serverSettings),
      events: serviceManager.events.stream
    });
    // A kernel or session came or went: its jobs and notebook paths changed.
    const refresh = () => void model.refresh().catch(() => undefined);
    serviceManager.kernels.runningChanged.connect(refresh);
    serviceManager.sessions.runningChanged.connect(refresh);

    if (settingRegistry) {
      watchSettings(settingRegistry, settings =>
        model.configure({
          pollInterval: settings.pollInterval,
          resyncInterval: settings.resyncInterval,
          maxEndedJobs: settings.maxEndedJobs
        })
      ).catch(reason =>
        console.error('jupyter-bgjobs: cannot load the settings', reason)
      );
    }
    return model;
  }
};

/** The "Background Jobs" sidebar and the commands. */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-bgjobs:sidebar',
  description: 'The Background Jobs sidebar and its commands.',
  autoStart: true,
  requires: [IJobsModel],
  optional: [
    ILayoutRestorer,
    ITranslator,
    ICommandPalette,
    IRenderMimeRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    model: IJobsModel,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_bgjobs');
    // Tracebacks and output render as in a notebook: the application's
    // renderers, sanitizer and link handler, or the standard renderers
    // where a shell has no registry.
    const rendering = new OutputRendering(
      rendermime ??
        new RenderMimeRegistry({ initialFactories: standardRendererFactories }),
      app.serviceManager.contents
    );
    const panel = new JobsPanel({
      model,
      commands: app.commands,
      rendering,
      translator: translator ?? nullTranslator
    });
    panel.id = SIDEBAR_ID;
    panel.title.icon = jobsIcon;
    panel.title.caption = trans.__('Background Jobs');
    app.shell.add(panel, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    addCommands(app, model, trans, uid => {
      app.shell.activateById(panel.id);
      if (uid) {
        panel.reveal(uid);
      }
    });
    if (palette) {
      const category = trans.__('Background Jobs');
      for (const command of PALETTE_COMMANDS) {
        palette.addItem({ command, category });
      }
    }
  }
};

/** "2 jobs running" in the status bar. */
const statusBarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-bgjobs:status-bar',
  description: 'Shows how many background jobs run, in the status bar.',
  autoStart: true,
  requires: [IJobsModel, IStatusBar],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IJobsModel,
    statusBar: IStatusBar,
    translator: ITranslator | null
  ) => {
    const item = new JobsStatus({
      model,
      translator: translator ?? nullTranslator,
      onClick: () => void app.commands.execute(CommandIDs.open)
    });
    statusBar.registerStatusItem('jupyter-bgjobs:status', {
      item,
      align: 'left',
      rank: 5,
      isActive: () => model.counts.running > 0,
      activeStateChanged: model.changed
    });
  }
};

/** The running jobs in JupyterLab's Running panel. */
const runningPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-bgjobs:running',
  description: 'Lists running background jobs in the Running panel.',
  autoStart: true,
  requires: [IJobsModel, IRunningSessionManagers],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IJobsModel,
    managers: IRunningSessionManagers,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_bgjobs');
    const { commands } = app;
    addRunningJobs(managers, {
      model,
      trans,
      reveal: uid => void commands.execute(CommandIDs.open, { uid }),
      kill: uid => void commands.execute(CommandIDs.kill, { uid }),
      killAll: () =>
        void model.killAll().catch(() => commands.execute(CommandIDs.refresh)),
      openNotebook: path =>
        void commands.execute(CommandIDs.openNotebook, { path })
    });
  }
};

/** Notifications when jobs fail, are killed, or end a long run. */
const notificationsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-bgjobs:notifications',
  description: 'Notifies when background jobs fail, are killed or finish.',
  autoStart: true,
  requires: [IJobsModel],
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IJobsModel,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    const notifier = new JobNotifier({
      model,
      trans: (translator ?? nullTranslator).load('jupyter_bgjobs'),
      show: uid =>
        void app.commands.execute(CommandIDs.open, uid ? { uid } : {})
    });
    if (settingRegistry) {
      watchSettings(settingRegistry, settings => {
        notifier.settings = {
          notifyOnFailed: settings.notifyOnFailed,
          notifyOnKilled: settings.notifyOnKilled,
          notifyOnLongFinished: settings.notifyOnLongFinished,
          longJobThreshold: settings.longJobThreshold
        };
      }).catch(reason =>
        console.error('jupyter-bgjobs: cannot load the settings', reason)
      );
    }
  }
};

export default [
  modelPlugin,
  sidebarPlugin,
  statusBarPlugin,
  runningPlugin,
  notificationsPlugin
];
