"""ORM-free building blocks of the inbound pipeline (errors, retry policy, sequencing)."""
