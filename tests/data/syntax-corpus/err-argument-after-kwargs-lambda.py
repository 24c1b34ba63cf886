"""Sort keys."""
key = lambda **kw, reverse: kw
