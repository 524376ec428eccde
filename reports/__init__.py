"""PDF audit reports: plain data in (``reports.data``), PDF bytes out (``reports.render``).

Never imports ``auditor``; the service gathers the data (``auditor.reports.services``).
"""

from reports.render import campaign_pdf, domain_pdf, period_pdf, subject_attachments, subject_pdf

__all__ = ["campaign_pdf", "domain_pdf", "period_pdf", "subject_attachments", "subject_pdf"]
