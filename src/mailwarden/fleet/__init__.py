"""Running many tenants: the queue of jobs (`queue`, on Dramatiq's Redis broker), the
scheduler that fills it (`schedule`), the workers' actor and broker (`actors`) and how a
job runs (`worker`: one watch cycle of one tenant, signed in from the registry
(`signin`), one job per tenant at a time (`lease`), within the tenant's request slots
shared by every worker (`limits`, `shared`)). The registry of tenants and the jobs'
records are in the history database (`mailwarden.store.fleet`); docs/fleet.md describes
it all, with what it does not do yet.
"""
