"""FreeScout ⇄ GitHub bridge."""
