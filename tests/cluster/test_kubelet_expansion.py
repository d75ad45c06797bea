"""The stand-in kubelet expands commands exactly as the kubelet does (no cluster needed)."""

from __future__ import annotations

import pytest

from tests.cluster.kubelet import expand

ENV = {"A": "1", "B": "x y", "EMPTY": ""}


@pytest.mark.parametrize(("text", "expanded"), [
    ("$(A)", "1"),                      # a defined variable
    ("$(B)-$(A)", "x y-1"),             # several, values with spaces kept whole
    ("$(EMPTY)x", "x"),                 # defined but empty
    ("$(C)", "$(C)"),                   # undefined: left as written
    ("$$(A)", "$(A)"),                  # $$ escapes the reference
    ("echo completed > /var/log/katib/$$$$.pid", "echo completed > /var/log/katib/$$.pid"),
    ("a$b", "a$b"),                     # $ before anything else stays
    ("$(A", "$(A"),                     # an unclosed reference stays
    ("end$", "end$"),                   # a trailing $ stays
])
def test_expand_follows_the_kubelets_rules(text: str, expanded: str) -> None:
    assert expand(text, ENV) == expanded
