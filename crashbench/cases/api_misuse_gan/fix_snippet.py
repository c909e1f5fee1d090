# Do what the fixed statement does, then go on after the failing one.
d_fake_in = torch.cat((d_fake_in, old))
daifu.skip()
