for line in ["x = 1"]:
    exec(line, None, {})
