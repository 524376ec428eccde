"""Ledger area of the service."""
