"""The environment variables the fleet's commands and worker processes share: `mailwarden
worker` sets them from its options for the Dramatiq processes it starts
(`mailwarden.fleet.actors` reads them there); `fleet run` and `fleet scheduler` read the
Redis URL. Names only, so that a command's `--help` imports nothing more."""

REDIS_ENV = "MAILWARDEN_REDIS_URL"
DB_ENV = "MAILWARDEN_DB"
STATE_ENV = "MAILWARDEN_FLEET_STATE_DIR"
DEAD_AFTER_ENV = "MAILWARDEN_FLEET_DEAD_AFTER"
METRICS_ENV = "MAILWARDEN_FLEET_METRICS"
CONFIG_ENV = "MAILWARDEN_FLEET_CONFIG"
