"""Resume checkpoints: from any stored checkpoint, a document another agent (or the source
framework) continues from.

``build_export`` picks the format, ``write_export`` writes into the outbox safely and
``export_checkpoint`` does both and logs the export. The default document follows the
agent-checkpoint spec (``acf_document``); ``native_harness`` and ``native_loopengt`` write
the frameworks' own checkpoints. Framework mappers live in ``core.resume.mappers``; each
framework's module in ``core.frameworks`` wires its mapper and native form, and
``core.frameworks.registry`` is the table ``mapping`` and ``export`` look them up in.
``load`` reads the checkpoint an export starts from; ``export_log`` records each export.
"""
