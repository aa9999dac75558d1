"""Text stages: normalisation, sentence spans, page cleaning, and the word lists they read."""
