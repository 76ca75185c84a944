"""One module per command, each with ``HELP``, ``add_arguments(parser)`` and ``run(args)``.

A command module imports only the standard library and ``baton.output`` at its top; what a
command needs from ``core`` and ``ingest`` (and so SQLAlchemy) it imports when it runs.
Commands never import each other: what two share lives in ``baton.output``.
"""
