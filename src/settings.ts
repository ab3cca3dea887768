import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IDisposable } from '@lumino/disposable';

import { INotifierSettings } from './notifier';
import { IJobsModelConfig } from './tokens';

/** The plugin whose settings (schema/model.json) configure the whole extension. */
export const SETTINGS_ID = 'jupyter-bgjobs:model';

/** Every setting of the extension, as schema/model.json defines them. */
export interface IBgJobsSettings extends IJobsModelConfig, INotifierSettings {}

interface ISettingsSchema {
  properties: Record<string, { default?: unknown }>;
}

// schema/ is out of TypeScript's rootDir (src/), so an `import` cannot reach
// it; webpack and jest resolve this require.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const SCHEMA: ISettingsSchema = require('../schema/model.json');

/**
 * The defaults of schema/model.json: what the model and the notifier use
 * until the settings registry answers, or when there is none (the registry
 * fills in the same defaults itself).
 */
export const DEFAULT_SETTINGS: Readonly<IBgJobsSettings> = Object.freeze(
  Object.fromEntries(
    Object.entries(SCHEMA.properties).map(([key, { default: value }]) => [
      key,
      value
    ])
  ) as unknown as IBgJobsSettings
);

/**
 * Call `apply` with the extension's settings now and on each change. The
 * registry has already checked them against the schema and filled in its
 * defaults.
 */
export async function watchSettings(
  registry: ISettingRegistry,
  apply: (settings: IBgJobsSettings) => void
): Promise<IDisposable> {
  const settings = await registry.load(SETTINGS_ID);
  const onChange = () =>
    apply({
      ...DEFAULT_SETTINGS,
      ...(settings.composite as unknown as Partial<IBgJobsSettings>)
    });
  onChange();
  settings.changed.connect(onChange);
  return {
    get isDisposed() {
      return settings.isDisposed;
    },
    dispose() {
      settings.changed.disconnect(onChange);
    }
  };
}
