import { matchesFilter } from '../filter';
import { SEARCH_FIELDS } from '../jobschema';
import { makeJob } from './fixtures';

describe('matchesFilter', () => {
  const job = makeJob({
    uid: 'UID-7f3a',
    kernel_id: 'kernel-b2c4',
    name: 'Load Prices',
    code: 'fetch_prices(2026)',
    group: 'nightly-batch',
    status: 'failed',
    error: { ename: 'KeyError', evalue: "'ticker' missing", traceback: [] },
    output_tail: 'only in the output',
    result_repr: "'only in the result'",
    paths: ['reports/q3.ipynb', 'other.ipynb'],
    number: 4321
  });

  it('searches the fields the job schema lists, as the server does', () => {
    expect(SEARCH_FIELDS).toEqual([
      'name',
      'code',
      'group',
      'uid',
      'kernel_id',
      'status',
      'error.evalue',
      'paths'
    ]);
  });

  it.each([
    ['name', 'load pri'],
    ['code', 'PRICES(20'],
    ['group', 'Nightly'],
    ['uid', 'uid-7F3'],
    ['kernel_id', 'B2C4'],
    ['status', 'FAIL'],
    ['error.evalue', 'ticker'],
    ['the first path', 'q3.ipy'],
    ['a later path', 'other']
  ])('finds a job by its %s, whatever the case', (_, text) => {
    expect(matchesFilter(job, 'all', text)).toBe(true);
  });

  it.each([
    ['the output', 'only in the output'],
    ['the result', 'only in the result'],
    ['the number', '4321'],
    ['the error name', 'KeyError']
  ])('does not look in %s', (_, text) => {
    expect(matchesFilter(job, 'all', text)).toBe(false);
  });

  it('filters by group of states', () => {
    expect(matchesFilter(job, 'all', '')).toBe(true);
    expect(matchesFilter(job, 'dead', '')).toBe(true);
    expect(matchesFilter(job, 'running', '')).toBe(false);
    expect(matchesFilter(job, 'finished', 'load')).toBe(false);
  });

  it('takes the paths the panel shows, and the group of states', () => {
    const lost = makeJob({ status: 'lost', paths: [] });
    expect(matchesFilter(lost, 'all', 'kept.ipynb')).toBe(false);
    expect(matchesFilter(lost, 'all', 'kept.ipynb', ['kept.ipynb'])).toBe(true);
    expect(matchesFilter(lost, 'dead', '  ')).toBe(true);
    expect(matchesFilter(lost, 'running', '')).toBe(false);
  });

  it('finds nothing in an error or name that is null', () => {
    const plain = makeJob({ name: null, error: null, group: null });
    expect(matchesFilter(plain, 'all', 'null')).toBe(false);
  });
});
