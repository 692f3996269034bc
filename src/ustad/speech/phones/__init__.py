"""Phones of target words and how well each was said (goodness of pronunciation)."""
