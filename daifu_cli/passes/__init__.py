"""The transpiler's passes, in pipeline order: parse, select, analyze, emit, format, verify."""
