"""Commands that produce or read a recorded tenant."""
