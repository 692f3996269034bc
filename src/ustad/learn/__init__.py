"""A learner's session: the learn cycle, turn processing, storing turns, asking for speech."""
