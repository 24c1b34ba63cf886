"""Assignment expressions and comprehensions."""
import re

data = ["a1", "b22", "c"]
if (n := len(data)) > 2:
    print(n)
lengths = {s: len(s) for s in data if (m := re.search(r"\d+", s))}
flat = [c for s in data for c in s]
gen = (x * 2 for x in range(10) if x % 2)
nested = [[j for j in range(i)] for i in range(3)]
