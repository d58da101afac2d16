"""Training: compile / fit / evaluate / predict."""
