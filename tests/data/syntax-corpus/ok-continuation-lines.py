"""Continuation lines may be indented any way."""
total = 1 + \
        2 + \
  3
values = [
1,
        2,
    3,
]
if (total >
        5):
    message = ("a"
"b")
call = dict(a=1,
    b=2)
