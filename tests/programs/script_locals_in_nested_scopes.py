"""At script level, locals()/vars()/dir() and one-argument eval()/exec() inside a lambda or
a comprehension use that scope's own namespace, not the module's."""
show_args = lambda a, b=2: sorted(locals())
print(show_args(1))
print([sorted(locals()) for item in range(1)])
print([dir() for item in range(1)])
print((lambda: vars())())
double = lambda v: eval("v * 2")
print(double(21), [eval("n + 1") for n in range(3)])
for i in range(2):
    print(i)
