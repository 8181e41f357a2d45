"""The test suite: a package, so tests import their helpers by package path
(tests.support.peers, tests.assess.assess_factory) wherever pytest is started from the
repository root."""
