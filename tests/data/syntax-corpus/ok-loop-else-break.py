def find(xs, target):
    for x in xs:
        if x == target:
            break
    else:
        return None
    while xs:
        xs = xs[1:]
        try:
            continue
        finally:
            pass
    return target
