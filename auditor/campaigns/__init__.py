"""Campaigns area of the service."""
