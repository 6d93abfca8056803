"""The ledger's database rules: triggers, frozen migration SQL, fixtures and deployment roles."""
