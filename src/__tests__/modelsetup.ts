import { Event } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import { JOBS_EVENT_SCHEMA } from '../events';
import { JobsModel } from '../model';
import { MemoryClient } from './memoryclient';

/** What a model test drives: the model, its REST client and its event bus. */
export interface IModelUnderTest {
  client: MemoryClient;
  /** The event bus as JupyterLab's EventManager hands it out. */
  events: Stream<object, Event.Emission>;
  model: JobsModel;
}

/**
 * A real model on a client that answers from memory and an event stream the
 * test emits on; it does not poll by itself (tests call `refresh`).
 *
 * @param now the model's clock in milliseconds
 */
export function makeModel(
  now: () => number,
  options: Partial<JobsModel.IOptions> = {}
): IModelUnderTest {
  const client = new MemoryClient();
  const events = new Stream<object, Event.Emission>({});
  const model = new JobsModel({
    client,
    events,
    autoStart: false,
    now,
    ...options
  });
  return { client, events, model };
}

/** An emission of the jobs event schema, as the server's bus sends it. */
export function jobsEvent(
  changed: object[] = [],
  removed: string[] = []
): Event.Emission {
  return { schema_id: JOBS_EVENT_SCHEMA, changed, removed } as any;
}
