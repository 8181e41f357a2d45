"""Who reaches team mode's sign-in routes: anyone (they start and finish an Entra ID
sign-in). The authorization matrix runs a local-mode console, where they answer 404 (team
mode is off); tests/console/test_oidc.py and test_oidc_browser.py test them in team mode."""

from __future__ import annotations

EXPECTED_ACCESS = {
    ("GET", "/auth/signin"): "public",
    ("GET", "/auth/callback"): "public",
}

MISSING_OK = {("GET", "/auth/signin"), ("GET", "/auth/callback")}

