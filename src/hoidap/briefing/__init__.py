"""Briefings: key sentences, figures, entities and where sources disagree."""
