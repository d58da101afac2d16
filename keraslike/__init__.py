"""keraslike."""
