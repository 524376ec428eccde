"""Gate area of the service."""
