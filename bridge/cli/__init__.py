"""The operator CLI, ``freescout-bridge``, and its doctor: a program of its own beside the web process."""
