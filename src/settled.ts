/** The values of the promises that were fulfilled, in order. */
export function fulfilled<T>(outcomes: PromiseSettledResult<T>[]): T[] {
  return outcomes
    .filter((o): o is PromiseFulfilledResult<T> => o.status === 'fulfilled')
    .map(outcome => outcome.value);
}

/** Throw the reason of the first rejected promise, if one was. */
export function throwFirstFailure(
  outcomes: PromiseSettledResult<unknown>[]
): void {
  const failure = outcomes.find(
    (o): o is PromiseRejectedResult => o.status === 'rejected'
  );
  if (failure) {
    throw failure.reason;
  }
}

/** Run `task` on every item, `size` at a time, and settle them all, in order. */
export async function settleInBatches<T, R>(
  items: readonly T[],
  size: number,
  task: (item: T) => Promise<R>
): Promise<PromiseSettledResult<R>[]> {
  const outcomes: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += size) {
    const batch = items.slice(i, i + size);
    outcomes.push(...(await Promise.allSettled(batch.map(task))));
  }
  return outcomes;
}
