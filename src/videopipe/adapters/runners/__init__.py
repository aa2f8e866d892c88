"""Pipeline-runner adapters.

``mock``, ``failure``: the test-double runners users' tests swap in (import them from
:mod:`videopipe.testing`). Nothing here is imported by functional code.
"""
