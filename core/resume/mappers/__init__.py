"""Resume mappers: one module per framework (``acf``, ``loopengt``, ``harness``,
``techrevati``), wired by that framework's module in ``core.frameworks``; ``generic`` for a
framework without one; ``base`` holds what every mapper returns.

A framework without a mapper is exported from the normalized checkpoint fields alone.
"""

from core.resume.mappers.base import Mapped, UnmappableCheckpoint

__all__ = ["Mapped", "UnmappableCheckpoint"]
