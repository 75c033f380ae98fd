"""Load benchmark of Onthaal's chat: real websocket clients against real
``onthaal serve`` processes on PostgreSQL + Redis, with a raw websocket relay
as this machine's baseline. Run ``python -m bench.load --help``; the results
and how they were taken are in docs/performance.md ("Load").

Not part of the test suite.
"""
