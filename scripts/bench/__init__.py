"""The parts of ``scripts/benchmark.py``: settings, peer adapters, accuracy, speed, memory, scaling, Markdown."""
