"""Delivery evidence: KPIs per campaign and integration, contractor SLAs, mail after a withdrawal."""
