"""Finding files, deciding what each one is, turning it into records, watching for change."""
