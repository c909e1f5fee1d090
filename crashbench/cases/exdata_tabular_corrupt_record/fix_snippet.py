# Drop the records of this chunk that do not parse, then retry parsing the chunk.
kept = []
for line in lines:
    try:
        parse_record(line)
    except ValueError:
        continue
    kept.append(line)
lines = kept
