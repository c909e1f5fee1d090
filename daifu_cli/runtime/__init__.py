"""The runtime shim shipped inside every vaccinated output (stdlib only)."""
