"""The server side: the ``jupyter_bgjobs`` extension app, relays, store and REST API."""
