"""Tokens that look like Python 2 but are valid Python 3."""
a = 0o777
b = 00
c = 1_000_000
d = 0j
e = 012j
f = 0xFF
g = 0b1010
h = 1e-3
