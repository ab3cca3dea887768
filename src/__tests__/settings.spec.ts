import { DEFAULT_SETTINGS, IBgJobsSettings } from '../settings';

// The settings schema, as JupyterLab's settings registry reads it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const schema = require('../../schema/model.json');

describe('DEFAULT_SETTINGS', () => {
  it('are the defaults of schema/model.json, for every setting the code reads', () => {
    const read: Record<keyof IBgJobsSettings, true> = {
      notifyOnFailed: true,
      notifyOnKilled: true,
      notifyOnLongFinished: true,
      longJobThreshold: true,
      pollInterval: true,
      resyncInterval: true,
      maxEndedJobs: true
    };
    expect(Object.keys(schema.properties).sort()).toEqual(
      Object.keys(read).sort()
    );
    expect(DEFAULT_SETTINGS).toEqual({
      notifyOnFailed: true,
      notifyOnKilled: true,
      notifyOnLongFinished: true,
      longJobThreshold: 30,
      pollInterval: 2,
      resyncInterval: 60,
      maxEndedJobs: 100
    });
  });
});
