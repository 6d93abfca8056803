"""The ledger's engine: the facade, postings, balances, reports and the audit trail."""
