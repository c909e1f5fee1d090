def swallow(f):
    for _ in range(1):
        try:
            f()
        finally:
            return "swallowed"
