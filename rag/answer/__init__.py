"""From passages to a cited answer: question analysis, composition, synthesis, checks, the LLM."""
