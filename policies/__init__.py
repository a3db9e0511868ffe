"""Policies: the batched ``Policy`` protocol, scripted experts, degradations, random.

Light to import: experts and their simulators load only when a policy is made.
"""

from policies.base import Policy
from policies.factory import make_policy
from policies.spec import parse_mix, parse_spec

__all__ = ["Policy", "make_policy", "parse_mix", "parse_spec"]
