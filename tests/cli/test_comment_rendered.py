"""The PR comment as GitHub renders it (cmark-gfm, GitHub's own renderer): the document's
paths, links to the file and line at the PR's head commit, the git-change/drift split, the
cost line and the counts; <details> blocks, tables and links come out as intended and no
value breaks out of a code block."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

from tests.cli.conftest import GitOpsRepo, cluster_doc
from tests.cli.test_github_flow import _plan_comments, _pr_env
from tests.github.standin import GitHubStandIn

BLOB = "https://github.example/acme/cluster-config/blob/"


def render(markdown: str) -> str:
    """As GitHub renders a comment: GFM with raw HTML kept (GitHub then sanitises it)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class _Tree(HTMLParser):
    """The tags of rendered HTML, with links and the text inside code blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: dict[str, str] = {}
        self.code_blocks: list[str] = []
        self._in_pre = 0
        self._href = ""
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "pre":
            self._in_pre += 1
            self.code_blocks.append("")
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre -= 1
        if tag == "a":
            self.links[self._text] = self._href

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.code_blocks[-1] += data
        self._text += data


def _pr_comment(gitops: GitOpsRepo, standin: GitHubStandIn, tmp: Path) -> tuple[str, str]:
    result = gitops.gridops("apply", "--auto-approve", "--wait", "--interval", "0.05",
                            "--timeout", "20")
    assert result.exit_code == 0, result.output
    live = gitops.grid.get_cluster("alpha")
    spec = json.loads(json.dumps(live.spec))
    spec["performanceProfile"] = "CLUSTER_PERFORMANCE_PROFILE_COST_SAVING"
    gitops.grid.update_cluster(live.id, "alpha", spec)  # drift, not from the PR
    base = gitops.repo.head.commit.hexsha
    number = standin.add_pull_request(head_sha=base)
    gitops.write("clusters/team-b/beta.yaml", cluster_doc(
        "beta", region="us-west-2", env_var="GRID_EXTERNAL_ID_B", protection=True,
        instance_types=["m5.xlarge", {"name": "g4dn.xlarge", "overprovisionedOnDemand": 3}],
        extra="  aws: {bucketName: \"```</details><script>x</script>\"}\n"))
    gitops.commit("beta: three warm GPUs")
    head = gitops.repo.head.commit.hexsha
    result = gitops.gridops("plan", "--comment", env=_pr_env(gitops, standin, tmp, number, base))
    assert result.exit_code == 0, result.output
    return str(_plan_comments(standin, number)[0]["body"]), head


def test_the_comment_renders_with_links_cost_split_and_nothing_escaping_a_code_block(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    body, head = _pr_comment(gitops, github_standin, tmp_path)
    assert "**Cost: +$767.96/month in warm on-demand instances.**" in body
    html = render(body)
    tree = _Tree()
    tree.feed(html)
    # every <details> opened is closed, and holds its summary and its diff
    assert tree.tags.count("details") == 2 and html.count("</details>") == 2
    assert tree.tags.count("summary") == 2
    assert "<script>" not in html.replace("&lt;script&gt;", "")
    # the diff blocks hold the document's words, and the hostile value stays inside one
    beta_diff = next(b for b in tree.code_blocks if "g4dn.xlarge" in b)
    assert "~ spec.instanceTypes[g4dn.xlarge].overprovisionedOnDemand: 1 -> 3" in beta_diff
    assert "</details><script>x</script>" in beta_diff
    alpha_diff = next(b for b in tree.code_blocks if "performanceProfile" in b)
    assert "~ spec.performanceProfile: cost-saving -> default  (drift)" in alpha_diff
    # links to the file and line at the PR's head commit
    assert tree.links["clusters/team-b/beta.yaml:10"] == \
        f"{BLOB}{head}/clusters/team-b/beta.yaml#L10"
    assert tree.links["clusters/team-b/beta.yaml:1"] == \
        f"{BLOB}{head}/clusters/team-b/beta.yaml#L1"
    # the split: the PR's own change first, the drift apart
    own, _, drift = body.partition("Drift: clusters this pull request does not touch")
    assert "beta" in own and "changed in git since the pull request's base" in own
    assert "alpha" in drift and "alpha" not in own.split("Changes this pull request makes")[1]
    assert re.search(r"cost: \+\$767\.96/month \(g4dn\.xlarge: 1 -&gt; 3 warm at "
                     r"\$0\.526/h\)", html), html


def test_the_summary_counts_render_as_text_not_markup(
        gitops: GitOpsRepo, github_standin: GitHubStandIn, tmp_path: Path) -> None:
    body, _ = _pr_comment(gitops, github_standin, tmp_path)
    html = render(body)
    assert "<strong>Plan: 0 to create, 2 to change, 0 to delete." in html
    assert "<h3>gridops plan · <code>gridops.yaml</code></h3>" in html
