def f():
    x = 1
  # a comment at an odd indentation is ignored
        # and so is this one
    return x


class B:
    pass
# trailing comment
