# Create the missing release folder; the export (torch.save) is retried.
os.makedirs(os.path.join(out_dir, "release"), exist_ok=True)
