# Create the missing output directory; the failing statement (writing the sheet) is retried.
import os

os.makedirs(SAMPLE_DIR, exist_ok=True)
