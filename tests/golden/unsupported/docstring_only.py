class Hooks:
    def on_step(self):
        """Subclasses override this."""
