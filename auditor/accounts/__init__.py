"""Users, roles, API keys and the audit log of administrative actions."""
