"""`satchel import-pocketbase`: a PocketBase 0.23-0.40 data directory moved into Satchel.

plan.py decides what can be carried (and refuses what can't); values.py turns PocketBase's
column values into Satchel's; records.py and files.py copy and verify; run.py puts it together.
"""
