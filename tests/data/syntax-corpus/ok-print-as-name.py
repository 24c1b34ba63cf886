print("hello")
print()
print("a", "b", sep=",")
p = print
print >> p, "tuple expression, valid in Python 3"
exec("x = 1")
