# Drop the real samples with a non-finite coordinate, then retry the discriminator loss.
real = real[torch.isfinite(real).all(dim=1)]
