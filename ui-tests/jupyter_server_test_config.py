"""Server configuration for the galata tests (`jlpm start`)."""

import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
# The test server runs as root on CI machines.
c.ServerApp.allow_root = True  # noqa: F821
# A history of its own for each run: jobs of earlier runs on this machine
# (the default file is in the user's Jupyter data directory) would change
# what the panel shows, e.g. a stale list instead of the "cannot reach" message.
c.BgJobsApp.history_file = str(Path(tempfile.mkdtemp(prefix="bgjobs-galata-")) / "history.sqlite")  # noqa: F821
# Notebook 7 pages (`/notebooks/...`) expose their app as JupyterLab's do: a
# test waits on its session's kernel, which no element on the page shows.
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821
