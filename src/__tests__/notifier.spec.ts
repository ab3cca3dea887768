import { Notification } from '@jupyterlab/apputils';
import { Event } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Stream } from '@lumino/signaling';

import { JOBS_EVENT_SCHEMA } from '../events';
import { JobsModel } from '../model';
import { JobNotifier } from '../notifier';
import { makeJob } from './fixtures';
import { MemoryClient } from './memoryclient';

describe('JobNotifier', () => {
  let client: MemoryClient;
  let events: Stream<object, Event.Emission>;
  let model: JobsModel;
  let notifier: JobNotifier;
  let shown: (string | null)[];

  const emit = (changed: object[]) =>
    events.emit({ schema_id: JOBS_EVENT_SCHEMA, changed, removed: [] } as any);
  const notified = () =>
    Notification.manager.notifications.map(n => [n.type, n.message]);

  beforeEach(async () => {
    Notification.dismiss();
    client = new MemoryClient();
    events = new Stream<object, Event.Emission>({});
    model = new JobsModel({ client, events, autoStart: false });
    shown = [];
    notifier = new JobNotifier({
      model,
      trans: nullTranslator.load('jupyter_bgjobs'),
      show: uid => shown.push(uid)
    });
    client.jobs = [
      makeJob({ uid: 'a', number: 3, name: 'crawl', status: 'running' }),
      makeJob({ uid: 'b', number: 4, code: 'f()', status: 'running' })
    ];
    await model.refresh();
  });

  afterEach(() => {
    notifier.dispose();
    model.dispose();
    Notification.dismiss();
  });

  it('tells of a failure, with the error, and shows the job on request', () => {
    emit([
      makeJob({
        uid: 'a',
        number: 3,
        name: 'crawl',
        status: 'failed',
        error: { ename: 'ValueError', evalue: 'bad', traceback: [] }
      })
    ]);
    expect(notified()).toEqual([
      ['error', 'Job 3 (crawl) in analysis.ipynb failed: ValueError: bad']
    ]);
    const [notification] = Notification.manager.notifications;
    notification.options.actions![0].callback(new MouseEvent('click'));
    expect(shown).toEqual(['a']);
  });

  it('tells of a kill from elsewhere, not of one asked for here', async () => {
    await model.kill('a');
    emit([
      makeJob({ uid: 'a', number: 3, name: 'crawl', status: 'killed' }),
      makeJob({ uid: 'b', number: 4, code: 'f()', status: 'killed' })
    ]);
    expect(notified()).toEqual([
      ['warning', 'Job 4 (f()) in analysis.ipynb was killed.']
    ]);
  });

  it('tells of a finish only after a long run, and only when the settings say so', () => {
    notifier.settings = { ...notifier.settings, longJobThreshold: 60 };
    emit([
      makeJob({ uid: 'a', name: 'crawl', status: 'finished', elapsed: 59 }),
      makeJob({
        uid: 'b',
        number: 4,
        code: 'f()',
        status: 'finished',
        elapsed: 75
      })
    ]);
    expect(notified()).toEqual([
      ['success', 'Job 4 (f()) in analysis.ipynb finished after 1:15.']
    ]);

    Notification.dismiss();
    notifier.settings = { ...notifier.settings, notifyOnFailed: false };
    client.jobs = [makeJob({ uid: 'c', status: 'running' })];
    emit([
      makeJob({ uid: 'c', status: 'failed', created: '2026-11-28T00:00:00Z' })
    ]);
    expect(notified()).toEqual([]);
  });

  it('sums up many endings in one notification', () => {
    emit(
      ['w', 'x', 'y', 'z'].map((uid, i) =>
        makeJob({
          uid,
          number: i,
          status: 'failed',
          created: `2026-11-28T00:00:0${i}Z`
        })
      )
    );
    expect(notified()).toEqual([['error', '4 jobs failed.']]);
  });
});
