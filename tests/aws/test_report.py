"""The text tables of preflight checks, leftovers and sweep outcomes."""

from __future__ import annotations

from reconciler.aws.checks import Check
from reconciler.aws.leftovers import Leftover, SweepResult
from reconciler.aws.report import render_checks, render_leftovers, render_sweep_results


def test_checks_table_shows_status_message_and_hint_of_problems() -> None:
    text = render_checks([
        Check("research", "us-east-1", "role", "pass", "the role grid-byoc exists", "unused"),
        Check("research", "us-east-1", "instance-type", "fail", "t4g.small is arm64",
              "use an x86_64 type"),
        Check("platform", "eu-west-1", "quota/asg", "warn", "could not check: access denied",
              "allow servicequotas:GetServiceQuota"),
    ])
    lines = text.splitlines()
    assert lines[0].split() == ["CLUSTER", "REGION", "CHECK", "STATUS", "MESSAGE"]
    assert lines[1].split()[:4] == ["research", "us-east-1", "role", "ok"]
    assert "FAIL" in lines[2] and "hint: use an x86_64 type" in lines[3]
    assert "unused" not in text
    assert lines[-1] == "preflight: 1 ok, 1 warning(s), 1 failure(s)"
    # Columns line up: every MESSAGE starts at the same offset.
    assert len({line.index(word) for line, word in
                [(lines[1], "the role"), (lines[2], "t4g"), (lines[4], "could")]}) == 1


def test_no_checks_says_so() -> None:
    assert render_checks([]) == "no preflight checks ran (no clusters)"


def test_leftovers_table_and_sweep_outcomes() -> None:
    bucket = Leftover("s3-bucket", "grid-prod", "grid-prod", "us-east-1", "arn:aws:s3:::grid-prod")
    role = Leftover("iam-role", "grid-prod-node", "grid-prod-node", "us-east-1")
    listing = render_leftovers("prod", [bucket, role])
    assert listing.splitlines()[0] == "2 resource(s) left behind by cluster prod:"
    assert "s3-bucket" in listing and "grid-prod-node" in listing
    assert render_leftovers("prod", []) == "no resources left behind by cluster prod"
    outcome = render_sweep_results([SweepResult(bucket, "deleted"),
                                    SweepResult(role, "failed", "AccessDenied: no")])
    assert "AccessDenied: no" in outcome
    assert outcome.splitlines()[-1] == "sweep: 1 deleted, 1 not deleted"
