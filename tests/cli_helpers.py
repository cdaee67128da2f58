"""Running the `motiongen` command in-process, as the CLI tests do."""

from __future__ import annotations

from motiongen import cli


def run(args: list, monkeypatch, capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `motiongen ARGS` run through ``cli.main``."""
    monkeypatch.setattr("sys.argv", ["motiongen", *map(str, args)])
    code = 0
    try:
        cli.main()
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(stderr: str) -> str:
    """The one `error:` line on stderr; fails if there is none, several, or a traceback."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]
