# Read the label names from where they are, then go on after the failing statement (they are
# loaded only once, so the bad path is never used again).
label_names = data.load_label_names(os.path.join(os.path.dirname(__file__), "assets", "labels.txt"))
daifu.skip()
