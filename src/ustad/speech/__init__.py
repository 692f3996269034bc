"""Speech engines behind small Protocols: transcription, synthesis, translation."""
