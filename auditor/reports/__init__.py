"""The reports area: data gathering (``services``), routes (``views``), commands (``cli``) and
background jobs (``tasks``; ``auditor.jobs`` imports ``auditor.reports.tasks``)."""
