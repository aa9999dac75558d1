"""Question answering: the parsed question, span extraction, the answer-sentence ranker."""
