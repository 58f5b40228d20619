"""Pure helpers of the mail-less auth flows; the endpoints themselves are compared with the reference
in test_auth_flows_reference.py."""

from __future__ import annotations

from satchel.api.auth_flows import email_nocase
from satchel.core.collection_model import Collection


def users(*indexes: str) -> Collection:
    return Collection({"fields": [], "indexes": list(indexes)})


def test_email_lookup_is_case_sensitive_with_the_default_index() -> None:
    assert not email_nocase(users("CREATE UNIQUE INDEX `idx_email` ON `users` (`email`) WHERE `email` != ''"))


def test_email_lookup_is_case_insensitive_with_a_nocase_unique_index() -> None:
    assert email_nocase(users("CREATE UNIQUE INDEX `idx_email` ON `users` (`email` COLLATE NOCASE) WHERE `email` != ''"))
    assert email_nocase(users("create unique index idx on users (email collate nocase)"))


def test_email_lookup_ignores_nocase_indexes_that_are_not_single_column_unique() -> None:
    assert not email_nocase(users("CREATE INDEX `idx_email` ON `users` (`email` COLLATE NOCASE)"))
    assert not email_nocase(users("CREATE UNIQUE INDEX `idx_pair` ON `users` (`email` COLLATE NOCASE, `name`)"))
    assert not email_nocase(users("CREATE UNIQUE INDEX `idx_name` ON `users` (`name` COLLATE NOCASE)"))
