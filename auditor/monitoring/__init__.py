"""Monitoring area of the service."""
