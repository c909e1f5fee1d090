def eval(model):
    return f"evaluated {model}"


def vars():
    return {"lr": 0.1}
