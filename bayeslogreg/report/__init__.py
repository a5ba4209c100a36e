"""Reports: tables, text and files written atomically."""
