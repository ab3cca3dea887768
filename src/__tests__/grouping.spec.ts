import { groupJobs } from '../grouping';
import { at, makeJob, makeKernel } from './fixtures';

describe('groupJobs', () => {
  it('groups jobs by notebook path, newest first within a notebook', () => {
    const jobs = [
      makeJob({ uid: 'a0', number: 0, created: at(0) }),
      makeJob({
        uid: 'b0',
        number: 0,
        kernel_id: 'kernel-b',
        paths: ['other/report.ipynb']
      }),
      makeJob({ uid: 'a1', number: 1, created: at(300) })
    ];
    const sections = groupJobs(jobs);
    expect(sections.map(section => section.key)).toEqual([
      'analysis.ipynb',
      'other/report.ipynb'
    ]);
    expect(sections[0].jobs.map(job => job.uid)).toEqual(['a1', 'a0']);
    expect(sections[0].kernelIds).toEqual(['kernel-a']);
  });

  it('puts jobs of a kernel without a notebook in a section of their own, last', () => {
    const sections = groupJobs([
      makeJob({ uid: 'x', kernel_id: 'kernel-x', paths: [] }),
      makeJob({ uid: 'y', paths: ['z.ipynb'] })
    ]);
    expect(sections.map(section => [section.key, section.path])).toEqual([
      ['z.ipynb', 'z.ipynb'],
      ['kernel:kernel-x', null]
    ]);
  });

  it('gives kernels without jobs a section, to say why there are none', () => {
    const sections = groupJobs(
      [],
      [
        makeKernel({
          kernel_id: 'k',
          paths: ['r.ipynb'],
          bgjobs: 'unavailable'
        })
      ]
    );
    expect(sections.map(s => [s.key, s.kernelIds, s.jobs.length])).toEqual([
      ['r.ipynb', ['k'], 0]
    ]);
  });

  it('uses the paths it is told for a job', () => {
    const sections = groupJobs([makeJob({ uid: 'a', paths: [] })], [], () => [
      'remembered.ipynb'
    ]);
    expect(sections.map(s => s.key)).toEqual(['remembered.ipynb']);
  });
});
