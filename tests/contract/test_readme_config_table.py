"""The README lists every configuration variable, generated from the settings classes (never drifting)."""

from tools import config_doc


def test_readme_configuration_table_matches_the_settings_classes():
    readme = (config_doc.REPO_ROOT / "README.md").read_text()
    assert config_doc.replace_section(readme, config_doc.render()) == readme, (
        "README.md's configuration table is stale: run `python -m tools.config_doc --write`")


def test_every_variable_is_prefixed_and_explained():
    for variable, process, _, _, meaning in config_doc.rows():
        assert variable.startswith("IBKR_"), variable
        assert meaning, f"{variable} ({process}) has no description: add an attribute docstring"
