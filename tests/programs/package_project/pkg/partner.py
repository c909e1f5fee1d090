from . import models

seen_from_models = list(models.registry)
for item in seen_from_models:
    seen_from_models = seen_from_models + [item.upper()]
has_model_class = hasattr(models, "Model")
print("partner sees Model yet:", has_model_class)
