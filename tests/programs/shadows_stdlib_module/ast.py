"""The project's own ``ast`` module, which shadows the standard library's for this program
(the script's folder comes first on sys.path). daifu's runtime imports the standard ``ast``
when a barrier first catches something; here it gets this module instead."""


def parse(text):
    return text.split()
