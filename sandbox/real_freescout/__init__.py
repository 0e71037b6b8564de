"""A real FreeScout for the test lane: see ``manager.RealFreeScout`` and ``python -m sandbox.real_freescout``."""

from sandbox.real_freescout.manager import Mailbox, RealFreeScout
from sandbox.real_freescout.tools import Unavailable

__all__ = ["Mailbox", "RealFreeScout", "Unavailable"]
