"""Message checks over the API: raw MIME in, findings out."""
