"""f-strings that Python 3.11 accepts."""
name = "ada"
items = {"a": 1}
width = 10
a = f"{name!r:>{width}}"
b = f'{items["a"]}'
c = f"{items['a']}"
d = f"""{items["a"]} and {name}"""
e = f"{{literal braces}} {name=}"
g = f"{'nested'}" f'{"other"}'
h = rf"\d+{name}"
