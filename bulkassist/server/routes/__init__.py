"""HTTP routes of the import server, one module per area."""
