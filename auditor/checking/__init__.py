"""The check commands: ``auditor check domain|ip|zone`` (``cli``) and ``auditor check message`` (``message_cli``)."""
