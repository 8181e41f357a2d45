"""Sign-in records (Graph signIn, Log Analytics SigninLogs / AADNonInteractiveUserSignInLogs,
Entra admin center downloads) onto the `signins` table."""

from __future__ import annotations

from mailwarden.detect.inputs.access import Accessor, nested


def signin_columns(f: Accessor) -> tuple[str, dict[str, str]]:
    """(raw time expression, normalized column -> SQL expression)."""
    stated = f.text("createdDateTime", "CreatedDateTime [UTC]", "TimeGenerated",
                    "TimeGenerated [UTC]", "Date (UTC)", "Date")
    # Some exports keep the time only inside the authentication steps.
    first_step = nested(f.text("authenticationDetails"), "$[0].authenticationStepDateTime")
    time_raw = f"coalesce({stated}, {first_step})"
    status = f.text("status", "Status_dynamic", "Status_string")
    code_text = (
        f"coalesce({f.text('ResultType', 'Sign-in error code', 'errorCode')}, "
        f"{nested(status, '$.errorCode')})"
    )
    status_word = f"lower({f.text('Status', 'Result')})"
    result_code = (
        f"coalesce(TRY_CAST({code_text} AS INTEGER), "
        f"CASE WHEN {status_word} IN ('success', 'succeeded') THEN 0 END)"
    )
    client_app = f.text("clientAppUsed", "Client app")
    location = f.text("location", "LocationDetails", "LocationDetails_dynamic",
                      "LocationDetails_string")
    portal_location = f.text("Location")
    device = f.text("deviceDetail", "DeviceDetail", "DeviceDetail_dynamic", "DeviceDetail_string")
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
        "ip": f"mw_ip({f.text('ipAddress', 'IPAddress', 'IP address')})",
        "user_agent": f.text("userAgent", "User agent"),
        "result_code": result_code,
        "failure_reason": f"coalesce({f.text('ResultDescription', 'Failure reason')}, "
                          f"mw_null({nested(status, '$.failureReason')}))",
        "interactive": f"coalesce(mw_bool({f.text('isInteractive', 'Interactive')}), "
                       f"CASE WHEN {log_type} ILIKE '%noninteractive%' THEN false END)",
        "ca_status": f.text("conditionalAccessStatus", "Conditional Access"),
        "country": f"coalesce(mw_null({nested(location, '$.countryOrRegion')}), "
                   f"mw_portal_country({portal_location}))",
        "device_id": f"coalesce(mw_null({nested(device, '$.deviceId')}), {f.text('Device ID')})",
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
