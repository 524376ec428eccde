"""DMARC aggregate and SMTP TLS reports: storage, sending sources, learned DKIM selectors."""
