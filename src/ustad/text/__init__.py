"""Text as it is said: English and Urdu spoken forms shared by speech and assessment.

A foundations package (it imports nothing else of ustad): :mod:`ustad.text.english` gives
the spoken form of English text (numbers, currency, units, abbreviations, roman
numerals), :mod:`ustad.text.markup` strips what no voice should read aloud (tags,
Markdown, emoji, control characters), :mod:`ustad.text.urdu` prepares Urdu text for the
Urdu voice, and :mod:`ustad.text.spelling` maps British spellings to American ones for
comparison.
"""
