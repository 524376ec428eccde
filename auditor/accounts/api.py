"""JSON API routes of accounts (none public yet: keys are issued by admins in the UI or CLI)."""
