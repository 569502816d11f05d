"""The bodies of the workflow's analysis jobs (one function per rule): chapter tables, evaluations and claims."""
