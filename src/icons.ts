import { LabIcon } from '@jupyterlab/ui-components';

import jobsIconSvg from '../style/icons/jobs.svg';

/** The icon of the extension: sidebar tab, status bar, Running panel. */
export const jobsIcon = new LabIcon({
  name: 'jupyter-bgjobs:jobs',
  svgstr: jobsIconSvg
});
