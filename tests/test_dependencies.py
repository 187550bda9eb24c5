"""pyproject.toml, requirements.txt and requirements-test.txt say the same thing.

pyproject.toml declares what Hearth needs, as ranges (the runtime; boto3 as
the `s3` extra; the suite's tools as the `test` extra). The requirements
files pin the whole resolved set, transitive dependencies included, that
scripts/setup installs on a fresh machine: requirements.txt the runtime with
s3, requirements-test.txt that and the test extra. A dependency added to one
and not the others, a pin outside its range, a pin left behind after its
reason went, or an environment that drifted from the pins fails here, with
the fix: scripts/pin (then scripts/setup --test).
"""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FIX = "run scripts/pin, then scripts/setup --test"


class PinError(ValueError):
    """A requirements file line that is not `name==version`."""


def read_pins(path):
    """{canonical name: (as written, Version)} of a requirements file."""
    pins = {}
    for number, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            req = Requirement(line)
        except ValueError as err:
            raise PinError(f"{Path(path).name}:{number}: {raw!r} ({err})") from None
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==" or req.extras or req.marker:
            raise PinError(
                f"{Path(path).name}:{number}: {raw!r} is not pinned as name==version"
            )
        name = canonicalize_name(req.name)
        if name in pins:
            raise PinError(f"{Path(path).name}:{number}: {req.name} is pinned twice")
        pins[name] = (req.name, Version(spec[0].version))
    return pins


def declared(pyproject, extras):
    """The requirements pyproject.toml declares for the runtime and `extras`."""
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    name = canonicalize_name(project["name"])
    optional = project.get("optional-dependencies", {})
    found, todo, seen = [], list(extras), set()
    found.extend(Requirement(r) for r in project.get("dependencies", []))
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == name:  # hearth[s3] inside [test]
                todo.extend(req.extras)
            else:
                found.append(req)
    return found


def problems(requirements, pins, what):
    """Each declared requirement without a pin, or pinned outside its range."""
    found = []
    for req in requirements:
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            found.append(f"{req} (pyproject.toml) is not pinned in {what}")
        elif not req.specifier.contains(pin[1], prereleases=True):
            found.append(
                f"{what} pins {pin[0]}=={pin[1]}, outside pyproject.toml's {req}"
            )
    return found


def resolved(requirements, distribution=metadata.distribution):
    """Every distribution the requirements need, transitively, by canonical name."""
    needed, todo = set(), [(req, frozenset(req.extras)) for req in requirements]
    environment = default_environment()
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in needed:
            continue
        needed.add((name, extras))
        for text in distribution(req.name).requires or []:
            dep = Requirement(text)
            wanted = ["", *sorted(extras)]
            if dep.marker and not any(
                dep.marker.evaluate({**environment, "extra": e}) for e in wanted
            ):
                continue
            todo.append((dep, frozenset(dep.extras)))
    return {name for name, _ in needed}


def pins_of(name):
    return read_pins(ROOT / name)


@pytest.fixture(scope="module")
def runtime_pins():
    return pins_of("requirements.txt")


@pytest.fixture(scope="module")
def test_pins():
    return pins_of("requirements-test.txt")


def test_every_declared_dependency_is_pinned_within_its_range(runtime_pins, test_pins):
    pyproject = ROOT / "pyproject.toml"
    found = problems(declared(pyproject, ["s3"]), runtime_pins, "requirements.txt")
    found += problems(
        declared(pyproject, ["s3", "test"]), test_pins, "requirements-test.txt"
    )
    assert not found, "\n".join([*found, FIX])


def test_the_test_pins_hold_the_runtime_pins_at_the_same_versions(
    runtime_pins, test_pins
):
    found = [
        f"requirements.txt pins {written}=={version}, requirements-test.txt "
        f"{'nothing' if name not in test_pins else test_pins[name][1]}"
        for name, (written, version) in runtime_pins.items()
        if test_pins.get(name, (None, None))[1] != version
    ]
    assert not found, "\n".join([*found, FIX])


@pytest.mark.parametrize(
    ("name", "extras"),
    [("requirements.txt", ["s3"]), ("requirements-test.txt", ["s3", "test"])],
)
def test_the_pins_are_the_whole_resolved_set_and_nothing_else(name, extras):
    pins = pins_of(name)
    needed = resolved(declared(ROOT / "pyproject.toml", extras))
    missing = sorted(needed - set(pins))
    stale = sorted(set(pins) - needed)
    assert not missing, f"{name} does not pin {', '.join(missing)}: {FIX}"
    assert not stale, f"{name} pins {', '.join(stale)}, which nothing needs: {FIX}"


def test_this_environment_has_every_pinned_version(test_pins):
    found = []
    for written, version in test_pins.values():
        try:
            installed = Version(metadata.version(written))
        except metadata.PackageNotFoundError:
            found.append(f"{written}=={version} is not installed")
            continue
        if installed != version:
            found.append(f"{written} is {installed} here, pinned {version}")
    assert not found, "\n".join([*found, "run scripts/setup --test"])


# The checks above, against the mistakes they are for.


def test_a_line_that_is_not_an_exact_pin_is_refused(tmp_path):
    for line in ("rich>=15.0", "rich", "moto[server]==5.2.5", "-r requirements.txt"):
        (tmp_path / "requirements.txt").write_text(f"# pins\n{line}\n")
        with pytest.raises(PinError, match=r"requirements\.txt:2: .*"):
            read_pins(tmp_path / "requirements.txt")


def test_a_missing_pin_and_a_pin_outside_its_range_are_named(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "hearth"\ndependencies = ["rich>=15.0", "pypdf>=7.1"]\n'
        '[project.optional-dependencies]\ns3 = ["boto3>=1.44"]\n'
        'test = ["hearth[s3]", "pytest>=9.2"]\n'
    )
    (tmp_path / "requirements.txt").write_text("rich==14.2.0\npytest==9.2.0\n")
    pins = read_pins(tmp_path / "requirements.txt")
    found = problems(declared(tmp_path / "pyproject.toml", ["test"]), pins, "r.txt")
    assert found == [
        "r.txt pins rich==14.2.0, outside pyproject.toml's rich>=15.0",
        "pypdf>=7.1 (pyproject.toml) is not pinned in r.txt",
        "boto3>=1.44 (pyproject.toml) is not pinned in r.txt",
    ]


def test_the_resolved_set_follows_dependencies_their_extras_and_markers():
    requires = {
        "app": ["lib[fast]>=1", "old; python_version < '3.0'"],
        "lib": ["base", "speedup; extra == 'fast'", "docs; extra == 'docs'"],
        "base": [],
        "speedup": ["base"],
    }

    class Dist:
        def __init__(self, name):
            self.requires = requires[name]

    assert resolved([Requirement("app")], Dist) == {"app", "lib", "base", "speedup"}
