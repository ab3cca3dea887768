import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRunningSessionManagers } from '@jupyterlab/running';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { BgJobsClient } from './api';
import { addCommands, CommandIDs, PALETTE_COMMANDS } from './commands';
import { jobsIcon } from './icons';
import { DEFAULT_CONFIG, JobsModel } from './model';
import { DEFAULT_NOTIFIER_SETTINGS, JobNotifier } from './notifier';
import { JobsPanel } from './panel';
import { addRunningJobs } from './running';
import { JobsStatus } from './statusbar';
import { IJobsModel } from './tokens';

export { IJobsModel } from './tokens';
export { jobsIcon } from './icons';

/** The plugin whose settings (schema/model.json) configure the whole extension. */
const SETTINGS_ID = 'jupyter-bgjobs:model';
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
      void settingRegistry
        .load(SETTINGS_ID)
        .then(settings => {
          const apply = () =>
            model.configure({
              pollInterval: number(settings, 'pollInterval', DEFAULT_CONFIG),
              resyncInterval: number(
                settings,
                'resyncInterval',
                DEFAULT_CONFIG
              ),
              maxEndedJobs: number(settings, 'maxEndedJobs', DEFAULT_CONFIG)
            });
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason =>
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
  optional: [ILayoutRestorer, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    model: IJobsModel,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_bgjobs');
    const panel = new JobsPanel({
      model,
      commands: app.commands,
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
      void settingRegistry.load(SETTINGS_ID).then(settings => {
        const apply = () => {
          notifier.settings = {
            notifyOnFailed: flag(settings, 'notifyOnFailed'),
            notifyOnKilled: flag(settings, 'notifyOnKilled'),
            notifyOnLongFinished: flag(settings, 'notifyOnLongFinished'),
            longJobThreshold: number(
              settings,
              'longJobThreshold',
              DEFAULT_NOTIFIER_SETTINGS
            )
          };
        };
        apply();
        settings.changed.connect(apply);
      });
    }
  }
};

function number<K extends string>(
  settings: ISettingRegistry.ISettings,
  key: K,
  defaults: Readonly<Record<K, number>>
): number {
  const value = settings.get(key).composite;
  return typeof value === 'number' && isFinite(value) ? value : defaults[key];
}

function flag(
  settings: ISettingRegistry.ISettings,
  key: keyof typeof DEFAULT_NOTIFIER_SETTINGS
): boolean {
  const value = settings.get(key).composite;
  return typeof value === 'boolean'
    ? value
    : (DEFAULT_NOTIFIER_SETTINGS[key] as boolean);
}

export default [
  modelPlugin,
  sidebarPlugin,
  statusBarPlugin,
  runningPlugin,
  notificationsPlugin
];
