"""Direction B: the ``freescout-sync`` script that runs inside GitHub Actions."""
