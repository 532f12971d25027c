"""Install lines work as written today; the Python requirement is one number everywhere.

No page tells a user to install the package by its index name alone while there is no
release (the release workflow publishes the first one from a version tag); the git URL the
pages give is the repository pyproject.toml names. scripts/check-package runs the wheel and
the git-URL installs themselves (tests/test_package.py).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
PAGES = sorted(
    {
        ROOT / "README.md",
        ROOT / "fivetran_sim" / "README.md",
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "docs" / "examples").iterdir(),
    }
)
#: `pip install tap-fivetran-meta`, `... 'tap-fivetran-meta[sim]'`, `...==0.1.0`: the index.
INDEX_INSTALL = re.compile(
    r"pip install (-q )?['\"]?tap-fivetran-meta(\[sim\])?(==[\w.]+)?['\"]?(?! @)(\s|$|`)"
)
INDEX_PIP_URL = re.compile(r"pip_url:? `?tap-fivetran-meta`?(\s|$|\))")


def paragraphs(path: Path) -> list[str]:
    return re.split(r"\n\s*\n", path.read_text())


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_install_line_needs_a_release_unless_it_says_so(path: Path) -> None:
    for paragraph in paragraphs(path):
        if INDEX_INSTALL.search(paragraph) or INDEX_PIP_URL.search(paragraph):
            assert "first release" in paragraph, paragraph


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_git_urls_name_the_repository(path: Path) -> None:
    for url in re.findall(r"git\+(https://[^\s'\"`@]+)", path.read_text()):
        assert url.removesuffix(".git") == REPOSITORY, url


def test_the_readme_gives_each_way_to_install() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"pip install 'tap-fivetran-meta[sim] @ git+{REPOSITORY}'" in readme
    assert "pip install '.[sim]'" in readme
    assert "py3-none-any.whl[sim]'" in readme
    assert f"pip_url: git+{REPOSITORY}" in readme


def test_the_release_workflow_builds_checks_and_publishes_on_a_version_tag() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    trigger = workflow[True]  # YAML reads the key `on` as true
    assert trigger == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    build_steps = "\n".join(str(step.get("run", "")) for step in build["steps"])
    assert "./scripts/check-package" in build_steps
    assert "twine check --strict" in build_steps
    assert 'test "v$version" = "$GITHUB_REF_NAME"' in build_steps
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}  # trusted publishing, no token
    assert publish["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert "pypa/gh-action-pypi-publish@release/v1" in uses
    assert "password" not in str(publish)


def test_one_python_minimum_everywhere() -> None:
    project = PYPROJECT["project"]
    assert project["requires-python"] == ">=3.11"
    versions = [c.rsplit(":: ", 1)[1] for c in project["classifiers"] if "Python :: 3." in c]
    assert versions[0] == "3.11", versions
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py311"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == "3.11"
    assert "Python ≥ 3.11" in (ROOT / "README.md").read_text()
    assert "3.10" not in (ROOT / "README.md").read_text()
    loader = tomllib.loads(
        (ROOT / "loaders" / "target-duckdb-header" / "pyproject.toml").read_text()
    )
    assert loader["project"]["requires-python"] == ">=3.11"
    # Nothing in the dependency lists is conditional on a Python the project refuses.
    groups = [project["dependencies"], *PYPROJECT["dependency-groups"].values()]
    for requirement in (r for group in groups for r in group):
        assert "< '3.11'" not in requirement, requirement
        assert ">= '3.11'" not in requirement, requirement
