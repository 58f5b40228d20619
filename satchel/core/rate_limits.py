"""The `rateLimits` settings: their rules checked as PocketBase checks them, and the decision
whether a request may pass.

A rule's label names the requests it counts: `METHOD /path` or `/path` (a path prefix when it
ends in `/`), `collection:action` or `*:action` for the collection handlers (actions such as
`list`, `create`, `auth`, `file`), or a plain tag. The first label of a request that some rule
names picks the rule, exact names before prefixes. Counts are per rule (and, in collection
handlers, per collection and handler) and per client IP, across every process of the instance.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import TYPE_CHECKING, Any

from ..errors import field_error
from ..files.rate_counts import WindowCounts

if TYPE_CHECKING:
    from .auth import Auth

RULE_KEYS = {"label": "", "audience": "", "duration": 0, "maxRequests": 0}  # the reference's field order
DEFAULT_RULES = [
    {"label": "*:auth", "audience": "", "duration": 3, "maxRequests": 2},
    {"label": "*:create", "audience": "", "duration": 5, "maxRequests": 20},
    {"label": "/api/batch", "audience": "", "duration": 1, "maxRequests": 3},
    {"label": "/api/", "audience": "", "duration": 10, "maxRequests": 300},
]
GUEST, AUTH = "@guest", "@auth"
# Go's regexp: `\w` is ASCII and `$` is the end of the text
LABEL = re.compile(r"(?:\w+ /[\w/-]*|/[\w/-]*|\w+:\w+|\*:\w+|\w+)", re.ASCII)
REQUIRED = field_error("validation_required", "Cannot be blank.")


def rule_of(raw: dict[str, Any] | None) -> dict[str, Any]:
    """A rule as stored: the reference's four fields, null or missing ones zero, others dropped."""
    raw = raw or {}
    return {key: zero if raw.get(key) is None else raw[key] for key, zero in RULE_KEYS.items()}


def settings_errors(block: dict[str, Any]) -> dict[str, Any]:
    """The block's validation errors, as ozzo-validation reports them for the reference's struct."""
    errors: dict[str, Any] = {}
    if problems := _rules_errors(block["rules"], block["enabled"]):
        errors["rules"] = problems
    ips = {str(i): _ip_error(ip) for i, ip in enumerate(block["excludedIPs"])}
    if ips := {i: error for i, error in ips.items() if error}:
        errors["excludedIPs"] = ips
    return errors


def _rules_errors(rules: list[dict[str, Any]], enabled: bool) -> Any:
    """Blank while enabled, else each rule's own errors, else the first conflicting label (each
    step only when the one before passed: the order the reference's answers show)."""
    if enabled and not rules:
        return REQUIRED
    if found := {str(i): errors for i, rule in enumerate(rules) if (errors := _rule_errors(rule))}:
        return dict(sorted(found.items()))
    seen: list[str] = []
    for index, rule in enumerate(rules):
        key = rule["label"] + "@@" + rule["audience"]
        if any(key.startswith(other) or other.startswith(key) for other in seen):
            message = f"Rate limit rule configuration with label {rule['label']} already exists or conflicts with another rule."
            params = {"label": rule["label"]}
            return {str(index): {"label": field_error("validation_conflicting_rate_limit_rule", message, params)}}
        seen.append(key)
    return None


def _rule_errors(rule: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if rule["audience"] not in ("", GUEST, AUTH):
        errors["audience"] = field_error("validation_in_invalid", "Must be a valid value.")
    for key in ("duration", "maxRequests"):
        if not rule[key]:
            errors[key] = REQUIRED
        elif rule[key] < 1:
            errors[key] = field_error("validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1})
    if not rule["label"]:
        errors["label"] = REQUIRED
    elif not LABEL.fullmatch(rule["label"]):
        errors["label"] = field_error("validation_match_invalid", "Must be in a valid format.")
    return errors


def _ip_error(item: str) -> dict[str, Any] | None:
    if not item:
        return REQUIRED
    if _network(item) is None:
        return field_error("validation_invlaid_ip_or_subnet", "Invalid IP or CIDR subnet.")  # sic, as the reference spells it
    return None


def _network(item: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An IP (as a one-address network) or a CIDR subnet; None for anything else."""
    try:
        return ipaddress.ip_network(item, strict=False)
    except ValueError:
        return None


class Matcher:
    """Finds the rule of a request from its labels (most specific first): for each label, a
    rule named by it, else a prefix rule (a label ending in `/`) it starts with; of the rules
    whose audience is one of `audiences`, the first in the settings' order."""

    def __init__(self, rules: list[dict[str, Any]], audiences: tuple[str, str]) -> None:
        self.named: dict[str, dict[str, Any]] = {}
        for rule in rules:
            if rule["audience"] in audiences:
                self.named.setdefault(rule["label"], rule)
        self.prefixes = [(r["label"], r) for r in rules if r["label"].endswith("/") and r["audience"] in audiences]

    def find(self, labels: list[str]) -> dict[str, Any] | None:
        for label in labels:
            if (rule := self.named.get(label)) is not None:
                return rule
            for prefix, rule in self.prefixes:
                if (label + "/").startswith(prefix):
                    return rule
        return None


def path_labels(method: str, path: str) -> list[str]:
    return [f"{method} {path}", path]


def collection_labels(collection: str, tags: tuple[str, ...], method: str, path: str) -> list[str]:
    """`name:tag` for each tag, then `*:tag` for each, then the path's own labels."""
    return [f"{collection}:{tag}" for tag in tags] + [f"*:{tag}" for tag in tags] + path_labels(method, path)


def is_excluded(block: dict[str, Any], ip: str) -> bool:
    """Whether `ip` is one of the block's excluded IPs or in one of its subnets."""
    if not block["excludedIPs"] or not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(network is not None and address in network for network in map(_network, block["excludedIPs"]))


class RateLimits:
    """The decisions of one instance, counted in the instance's shared file."""

    def __init__(self, counts_path: str) -> None:
        self.counts = WindowCounts(counts_path)
        self._matchers: tuple[list[dict[str, Any]], Matcher, Matcher] | None = None

    def refusing_rule(self, block: dict[str, Any], labels: list[str], auth: Auth | None, ip: str, bucket: str = "") -> dict[str, Any] | None:
        """The rule that refuses a request with `labels` from `ip`, or None when it may pass.
        `bucket` keeps its count apart from other handlers' under the same rule ("" for the
        rule's own count, shared by all paths). Superusers, excluded IPs and requests no rule
        names always pass."""
        if auth is not None and auth.is_superuser or not ip or is_excluded(block, ip):
            return None
        rule = self._matcher(block["rules"], auth is not None).find(labels)
        if rule is None:
            return None
        key = f"{bucket or rule['label']}\0{rule['audience']}\0{ip}"
        return None if self.counts.consume(key, rule["maxRequests"], rule["duration"], int(time.time())) else rule

    def _matcher(self, rules: list[dict[str, Any]], authenticated: bool) -> Matcher:
        """The matcher of these rules, made again only when the settings (loaded whole) change."""
        if self._matchers is None or self._matchers[0] is not rules:
            self._matchers = rules, Matcher(rules, ("", GUEST)), Matcher(rules, ("", AUTH))
        return self._matchers[2] if authenticated else self._matchers[1]

    def restart(self) -> None:
        self.counts.restart()

    def close(self) -> None:
        self.counts.close()
