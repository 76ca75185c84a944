"""Records to rows: bulk, idempotent, many files per transaction.

The loader hands over a batch of file outcomes; ``Store.write_batch`` applies it in one
transaction so a reader never sees half a file. A file that loads again replaces exactly
what it contributed before (except versioned checkpoints, which keep their history); a
file that fails keeps what it loaded earlier; a deleted file keeps its records and is
marked ``deleted`` (the runs it described still happened), except a run status it only
inferred from being on disk. A checkpoint or an event stays while any file holds it.
"""

from core.outcomes import FileOutcome, KnownFile
from core.store.writer import Store

__all__ = ["FileOutcome", "KnownFile", "Store"]
