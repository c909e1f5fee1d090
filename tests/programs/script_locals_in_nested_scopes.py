"""At script level, locals()/vars()/dir() inside a lambda or a comprehension name that
scope's own namespace, not the module's."""
show_args = lambda a, b=2: sorted(locals())
print(show_args(1))
print([sorted(locals()) for item in range(1)])
print([dir() for item in range(1)])
print((lambda: vars())())
for i in range(2):
    print(i)
