"""Pure builders: figures and tables from API JSON (no HTTP, no callbacks)."""
