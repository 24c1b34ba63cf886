d = {"a": 1}
x = f"{d['a'] # the value}"
