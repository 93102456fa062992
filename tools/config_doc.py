"""Renders the README's configuration table from the services' settings classes (`--write` updates it).

Each process's settings class lives in `services/<name>/config.py` and subclasses `CommonSettings`; a
field's description is its attribute docstring (the string literal right after it), so the table and the
code cannot drift apart: `tests/contract/test_readme_config_table.py` fails when README.md is stale.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

from pydantic import SecretStr

from services.common.config import CommonSettings, env_var_name

REPO_ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("common", "edge", "risk", "gateway_bridge", "ledger", "ib_gateway_sim")
START, END = "<!-- config-table -->", "<!-- /config-table -->"


def attribute_docstrings(cls: type) -> dict[str, str]:
    """`name: T = …` followed by a string literal, for cls and its bases defined in this repo."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        body = ast.parse(inspect.cleandoc("\n" + source) if source.startswith(" ") else source).body[0]
        statements = getattr(body, "body", [])
        for stmt, following in zip(statements, statements[1:] + [None], strict=True):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                docs[stmt.target.id] = " ".join(following.value.value.split())
    return docs


def docstring_table(module) -> dict[str, str]:
    """Meanings from a config module's docstring, written either as table rows
    (`| `IBKR_X` | default | meaning |`) or as bullets (`- `IBKR_X` (default): meaning`, possibly naming
    several variables and running over indented lines)."""
    found: dict[str, str] = {}
    bullets: list[list[str]] = []
    for line in (module.__doc__ or "").splitlines():
        stripped = line.strip()
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if stripped.startswith("|") and len(cells) >= 3 and cells[0].startswith("`IBKR_"):
            found[cells[0].strip("`")] = cells[-1]
        elif stripped.startswith("- `IBKR_"):
            bullets.append([stripped[2:]])
        elif bullets and line.startswith("  ") and stripped:
            bullets[-1].append(stripped)
        elif bullets and bullets[-1]:
            bullets.append([])  # any other line ends the bullet
    for bullet in filter(None, bullets):
        text = " ".join(bullet)
        head, _, meaning = text.partition("): ") if "): " in text else text.partition(": ")
        for variable in re.findall(r"`(IBKR_[A-Z0-9_]+)`", head):
            found.setdefault(variable, meaning.strip())
    return found


def settings_classes(process: str) -> list[type[CommonSettings]]:
    try:
        module = importlib.import_module(f"services.{process}.config")
    except ModuleNotFoundError:
        return []
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, CommonSettings) and obj.__module__ == module.__name__]
    return sorted(found, key=lambda c: c.__name__)


# Variables several processes read, fixed by the team brief; described once here rather than in each service.
SHARED_MEANINGS = {
    "IBKR_DATABASE_URL": "Postgres DSN (each service keeps its own schema); `make run` embeds one when unset",
    "IBKR_REDIS_URL": "Redis URL of the event bus; `make run` embeds one when unset",
    "IBKR_BUS_STREAM": "name of the Redis Stream carrying `ibkr.trading.v1.Event`",
    "IBKR_BUS_MAXLEN": "approximate number of entries the bus stream retains (the resume window)",
    "IBKR_RISK_ADDRESS": "host:port of the risk service",
    "IBKR_BRIDGE_ADDRESS": "host:port of the gateway bridge (a comma list for the active/standby pair)",
    "IBKR_LEDGER_ADDRESS": "host:port of the ledger",
    "IBKR_IB_HOST": "IB Gateway / TWS host; `make run` starts the simulator when unset",
    "IBKR_IB_PORT": "IB API port (4002 IB Gateway paper, 7497 TWS paper)",
    "IBKR_IB_CLIENT_ID": "the bridge's IB API clientId",
    "IBKR_ACCOUNT_ID": "the paper account the suite trades (DU…)",
}


def rows() -> list[tuple[str, str, str, str, str]]:
    """(variable, processes, type, default, meaning) for every setting, each variable once."""
    found: dict[str, list] = {}
    for process in PROCESSES:
        for cls in settings_classes(process):
            docs = attribute_docstrings(cls)
            table = docstring_table(sys.modules[cls.__module__])
            for name, field in cls.model_fields.items():
                variable = env_var_name(cls, name)
                if variable in found:
                    if process not in found[variable][1]:
                        found[variable][1].append(process)
                    continue
                default = field.get_default(call_default_factory=False)
                shown = "(secret)" if isinstance(default, SecretStr) else ("" if default is None else str(default))
                type_name = getattr(field.annotation, "__name__", None) or str(field.annotation)
                type_name = type_name.replace("typing.", "").replace("pydantic.types.", "").replace("pathlib.", "")
                meaning = (SHARED_MEANINGS.get(variable) or docs.get(name) or field.description
                           or table.get(variable, ""))
                found[variable] = [variable, [process], type_name, shown, meaning]
    return [(v, "all" if "common" in p else ", ".join(p), t, d, m) for v, p, t, d, m in found.values()]


def render() -> str:
    lines = ["| variable | process | type | default | meaning |", "|---|---|---|---|---|"]
    for variable, process, type_name, default, meaning in rows():
        cell = lambda text: text.replace("|", "\\|")
        lines.append(f"| `{variable}` | {process} | {cell(type_name)} | {cell(default)} | {cell(meaning)} |")
    return "\n".join(lines)


def replace_section(readme: str, table: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    readme_path = REPO_ROOT / "README.md"
    updated = replace_section(readme_path.read_text(), render())
    if args.write:
        readme_path.write_text(updated)
    else:
        print(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
