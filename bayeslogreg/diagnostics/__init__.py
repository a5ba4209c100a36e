"""Diagnostics: classification metrics and posterior summaries."""
