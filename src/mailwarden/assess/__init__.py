"""The assessment engine: ownerless inventory, access map, effective settings, the check
catalogue, custodians, risk scores and attack paths.

    result = assess(load_snapshot(path), custodians=load_custodians(csv_path))
"""

from mailwarden.assess.checks import CATALOGUE, list_checks
from mailwarden.assess.custodians import CustodianMap, infer_custodian, load_custodians
from mailwarden.assess.engine import assess
from mailwarden.assess.inventory import classify
from mailwarden.assess.options import AssessOptions
from mailwarden.assess.summary import RiskyMailbox, riskiest

__all__ = [
    "CATALOGUE",
    "AssessOptions",
    "CustodianMap",
    "RiskyMailbox",
    "assess",
    "classify",
    "infer_custodian",
    "list_checks",
    "load_custodians",
    "riskiest",
]
