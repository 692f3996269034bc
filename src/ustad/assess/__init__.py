"""Scoring a learner's English attempt against its target sentence."""
