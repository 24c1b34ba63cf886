def collect(it):
    return [x async for x in it]
