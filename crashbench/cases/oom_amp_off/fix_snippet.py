# Use the precision name train_step() recognises (autocast on from now on), then retry the step.
CONFIG["precision"] = "bf16"
