"""The web client served by ustad itself: ``/`` is the page, ``/static/`` its assets."""
