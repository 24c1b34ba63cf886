"""'#' inside a string literal of an f-string expression is valid in 3.11."""
d = {"#": 1, 'x#y': 2}
a = f'{"#"}'
b = f'{d["#"]}'
c = f"{d['x#y']:>10}"
e = f"""{'#'.join(['a', 'b'])}"""
