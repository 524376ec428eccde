"""ESP and CRM integrations: webhook events in, audiences and suppressions out."""
