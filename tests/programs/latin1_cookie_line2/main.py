# A test program: this comment comes before the coding declaration
# -*- coding: latin-1 -*-
import contextlib


def décrire(valeurs):
    résultat = []
    for v in valeurs:
        with contextlib.nullcontext():
            # éèàç, et 'Ã©' lu en UTF-8 serait 'é'
            résultat.append("élément %s °C Ã©" % v)
    return résultat


for ligne in décrire([1, 2]):
    print(ligne, len(ligne), ligne.encode("utf-8"))
