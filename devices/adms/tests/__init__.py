"""The ADMS adapter's own tests: its wire format against the real /iclock endpoints."""
