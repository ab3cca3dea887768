"""Server configuration for the galata tests (`jlpm start`)."""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
# The test server runs as root on CI machines.
c.ServerApp.allow_root = True  # noqa: F821
