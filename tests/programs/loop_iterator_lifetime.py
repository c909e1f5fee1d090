"""A loop that breaks out of a generator: the generator is dropped (and its `finally`
runs) as soon as the loop ends, before the statements after the loop run."""


def records(name):
    try:
        for i in range(10):
            yield i
    finally:
        print(f"{name}: generator closed")


def first_over(limit):
    for value in records("first_over"):
        if value > limit:
            break
    print("after the loop")
    return value


def nested():
    for a in records("outer"):
        for b in records("inner"):
            if b == 1:
                break
        print("inner loop done")
        if a == 0:
            break
    print("outer loop done")


print(first_over(2))
nested()
for item in records("script"):
    if item == 1:
        break
print("script after loop")
