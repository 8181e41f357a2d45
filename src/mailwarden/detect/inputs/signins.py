"""Sign-in records (Graph signIn, Log Analytics SigninLogs / AADNonInteractiveUserSignInLogs,
Entra admin center downloads) onto the `signins` table."""

from __future__ import annotations

from mailwarden.detect.inputs.access import Accessor

#: Fields holding objects whose members the mapping reads (`Accessor.inner`); elsewhere
#: the mapping only asks whether they hold a plain value, so a reader may hand it these
#: as STRUCTs of just those members (see `inputs.fields`).
OBJECT_FIELDS = frozenset({"status", "location", "devicedetail"})
_STATUS = ("status", "Status_dynamic", "Status_string")
_LOCATION = ("location", "LocationDetails", "LocationDetails_dynamic", "LocationDetails_string")
_DEVICE = ("deviceDetail", "DeviceDetail", "DeviceDetail_dynamic", "DeviceDetail_string")


def ip_address(value: str) -> str:
    """`mw_ip(value)`, skipping its regular expressions for the common plain address:
    without brackets, a zone ('%') or both '.' and ':' (a port, an IPv4-mapped IPv6
    address) none of them changes it."""
    plain = (f"NOT (contains({value}, '[') OR contains({value}, '%') "
             f"OR (contains({value}, '.') AND contains({value}, ':')))")
    return f"CASE WHEN {plain} THEN nullif(lower(trim({value})), '') ELSE mw_ip({value}) END"


def signin_columns(f: Accessor) -> tuple[str, dict[str, str]]:
    """(raw time expression, normalized column -> SQL expression)."""
    stated = f.text("createdDateTime", "CreatedDateTime [UTC]", "TimeGenerated",
                    "TimeGenerated [UTC]", "Date (UTC)", "Date")
    # Some exports keep the time only inside the authentication steps.
    first_step = f.inner(("authenticationDetails",), "$[0].authenticationStepDateTime")
    time_raw = f"coalesce({stated}, {first_step})"
    code_text = (
        f"coalesce({f.text('ResultType', 'Sign-in error code', 'errorCode')}, "
        f"{f.inner(_STATUS, '$.errorCode')})"
    )
    status_word = f"lower({f.text('Status', 'Result')})"
    result_code = (
        f"coalesce(TRY_CAST({code_text} AS INTEGER), "
        f"CASE WHEN {status_word} IN ('success', 'succeeded') THEN 0 END)"
    )
    client_app = f.text("clientAppUsed", "Client app")
    portal_location = f.text("Location")
    log_type = f.text("Type", "Category")
    columns = {
        "upn": f"lower(coalesce({f.text('userPrincipalName', 'Username', 'User principal name')}, "
               f"{f.text('signInIdentifier', 'Sign-in identifier')}))",
        "user_id": f.text("userId", "User ID"),
        "app": f.text("appDisplayName", "Application"),
        "app_id": f.text("appId", "Application ID"),
        "client_app": client_app,
        "protocol": f"mw_protocol({client_app})",
        "legacy_protocol": f"mw_is_legacy({client_app})",
        "auth_protocol": f.text("authenticationProtocol", "Authentication Protocol"),
        "resource": f.text("resourceDisplayName", "Resource"),
        "ip": ip_address(f.text('ipAddress', 'IPAddress', 'IP address')),
        "user_agent": f.text("userAgent", "User agent"),
        "result_code": result_code,
        "failure_reason": f"coalesce({f.text('ResultDescription', 'Failure reason')}, "
                          f"mw_null({f.inner(_STATUS, '$.failureReason')}))",
        "interactive": f"coalesce(mw_bool({f.text('isInteractive', 'Interactive')}), "
                       f"CASE WHEN {log_type} ILIKE '%noninteractive%' THEN false END)",
        "ca_status": f.text("conditionalAccessStatus", "Conditional Access"),
        "country": f"coalesce(mw_null({f.inner(_LOCATION, '$.countryOrRegion')}), "
                   f"mw_portal_country({portal_location}))",
        "device_id": f"coalesce(mw_null({f.inner(_DEVICE, '$.deviceId')}), {f.text('Device ID')})",
        "correlation_id": f.text("correlationId", "Correlation ID"),
        "request_id": f.text("id", "Request ID", "OriginalRequestId"),
    }
    return time_raw, columns


def signin_derived() -> dict[str, str]:
    """Columns computed from other normalized columns."""
    return {
        "ip_prefix": "mw_ip_prefix(ip)",
        "success": "result_code = 0",
    }
