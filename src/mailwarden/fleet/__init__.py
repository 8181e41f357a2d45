"""Running many tenants: per-tenant limits shared by every worker (`limits`), the queue
of jobs the workers read (`queue`) and the scheduler that fills it (`schedule`). The
registry of tenants and the jobs' records are in the history database
(`mailwarden.store.fleet`); docs/fleet.md says what is still to come.
"""
