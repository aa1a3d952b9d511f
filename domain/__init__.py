"""smsauth's domain: models, persistence and business rules (no GraphQL in here)."""
