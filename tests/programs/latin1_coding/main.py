# -*- coding: latin-1 -*-
"""Un module encodé en latin-1: chaînes et commentaires accentués."""
import contextlib


def décrire(valeurs):
    résultat = []
    for v in valeurs:
        with contextlib.nullcontext():
            # commentaire accentué: éèàç
            résultat.append("élément %s °C" % v)
    return résultat


for ligne in décrire([1, 2]):
    print(ligne, len(ligne), ligne.encode("utf-8"))
print(décrire.__doc__, __doc__)
