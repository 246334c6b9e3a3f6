"""The search endpoints: full-text search of threads and the duplicate check while asking."""
