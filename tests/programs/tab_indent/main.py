"""Indented with tabs."""
import contextlib


class Acc:
	def __init__(self):
		self.items = []

	def add(self, values):
		for v in values:
			with contextlib.nullcontext():
				if v < 0:
					continue
				text = """tab
	inside string"""
				self.items.append((v, text))
		return self.items


for i in range(2):
	if i:
		print(Acc().add([i, -1, i + 1]))
	else:
		with contextlib.nullcontext():
			print("tab script", i)
