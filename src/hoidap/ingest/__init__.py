"""Ingest stages: read files, prepare articles (clean, segment, normalise), in parallel or on Spark."""
