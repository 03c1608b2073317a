"""The sandbox's guest side: standard-library modules copied into each container.

``runner.py`` (the warm runner, the container's main process), ``harness.py`` (runs one
program and counts its tests), ``explain.py`` (failed asserts that say what they
compared), ``testcode.py`` (the one definition of test code versus
solution code), ``wire.py`` (frames), ``procs.py`` (killing, cleaning) and ``watch.py`` (a
run's output and deadline). They run on the container's Python 3.8+ with nothing but the
standard library; the host side imports ``testcode``, ``wire`` and ``harness.split_counts``
from here too, never the reverse.
"""
