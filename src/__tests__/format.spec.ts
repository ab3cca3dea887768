import {
  baseName,
  formatElapsed,
  formatProgress,
  jobLabel,
  progressFraction
} from '../format';

describe('formatElapsed', () => {
  it.each([
    [null, ''],
    [0, '0.0 s'],
    [4.27, '4.2 s'],
    [9.99, '9.9 s'],
    [10, '10 s'],
    [59.9, '59 s'],
    [60, '1:00'],
    [605, '10:05'],
    [3600, '1:00:00'],
    [3725, '1:02:05'],
    [-3, '0.0 s']
  ])('%p seconds is %p', (seconds, text) => {
    expect(formatElapsed(seconds)).toBe(text);
  });
});

describe('jobLabel', () => {
  it('prefers the name, else the first line of code', () => {
    expect(jobLabel({ name: 'crawl', code: 'x' })).toBe('crawl');
    expect(
      jobLabel({ name: null, code: '\n  total = 0\nfor i in x: pass' })
    ).toBe('total = 0 …');
    expect(jobLabel({ name: null, code: 'sum(x)' })).toBe('sum(x)');
  });
});

describe('progress', () => {
  it('is a fraction of the total, or unknown', () => {
    expect(progressFraction({ done: 3, total: 12, desc: null })).toBe(0.25);
    expect(progressFraction({ done: 3, total: null, desc: null })).toBeNull();
    expect(progressFraction({ done: 3, total: 0, desc: null })).toBeNull();
    expect(progressFraction({ done: 13, total: 12, desc: null })).toBe(1);
  });

  it('reads as done / total (percent)', () => {
    expect(formatProgress({ done: 3, total: 12, desc: null })).toBe(
      '3 / 12 (25%)'
    );
    expect(formatProgress({ done: 2.5, total: null, desc: null })).toBe('2.5');
  });
});

describe('baseName', () => {
  it('is the last part of a path', () => {
    expect(baseName('work/2026/report.ipynb')).toBe('report.ipynb');
    expect(baseName('top.ipynb')).toBe('top.ipynb');
  });
});
