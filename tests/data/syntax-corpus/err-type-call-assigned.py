def reset(obj):
    type (obj) = None
