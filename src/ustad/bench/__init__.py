"""``ustad bench``: a load generator and benchmark of the learn cycle over real WebSockets.

``workload`` (knobs, clip pools, Zipf choice), ``learner`` (one simulated learner),
``server`` (the server under test in its own process, /proc sampling), ``report``
(percentiles, JSON, plots), ``runner`` (every configuration at every learner count)
and ``cli`` (the ``ustad bench`` command).
"""
