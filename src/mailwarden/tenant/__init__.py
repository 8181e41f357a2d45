"""The recorded tenant (SPEC section 4): a directory of what Microsoft's APIs return, in
Microsoft's own shapes. Reading and writing it, the lenient reading of its rows, parsing
Graph and Exchange rows into a `Snapshot`, and its log kinds and log files. Nothing here
talks to a service: `collect` does, and writes what it read through this package.
"""
