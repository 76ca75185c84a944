"""The ``baton`` command line: a layer on top of ``core`` and ``ingest`` (never the dashboard).

``baton.cli`` holds the command list and ``main()``; ``baton.output`` what every command
prints; ``baton.commands`` one module per command.
"""
