#!/usr/bin/env python3
# vim: set fileencoding=latin-1 :
def somme(xs):
    total = 0
    for x in xs:
        total += x  # é
    return total, "±Ã©"


for n in range(3):
    print(somme(range(n)), "café")
