"""The ops console at ``/ops``: server-rendered pages over the fleet (``OPS_CONSOLE=1``).

Jinja2 templates, one CSS file, htmx (vendored, ``static/htmx.min.js``, 2.0.11,
0BSD) and a small script of ours that turns the server-sent change stream into
page refreshes. :func:`api.ops.routes.install_ops_console` mounts it.
"""
