"""Pure mail functions: parsing, reply stripping, loop detection, tokens and composing; no DB, no I/O."""
