"""The web console: a team triages incidents, approves changes and reviews access in a
browser, over the history database (SQLite or PostgreSQL).

Layout:
    roles.py      who may do what: the four roles and the signed-in principal
    config.py     the console's settings (database, address, sign-in mode)
    sessions.py   server-side sessions (cookie value hashed in the store) and their CSRF token
    pages.py      the route table: every page with the role it needs (the authorization
                  matrix test reads it)
    guard.py      the one place a request is authenticated, authorized and CSRF-checked
    web.py        templates (autoescaped Jinja2) and the security headers of every response
    audit.py      every console action recorded: who, what, when, from where
    app.py        `create_app(config)`: the Starlette application

The console sits beside `cli` at the top of the package: it reads and writes through
`store`, plans and applies through `remediate`, and sends through `notify`.
"""
