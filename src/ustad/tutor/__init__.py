"""The learn cycle: a pure state machine, reply wording and the phrase bank."""
