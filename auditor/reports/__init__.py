"""Background jobs of the reports area (``auditor.jobs`` imports ``auditor.reports.tasks``)."""
