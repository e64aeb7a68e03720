"""Entry point of ``make synth`` and ``cdktf synth``, and of ``python -m cdktf_app import-tfvars FILE``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cdktf_app.config import SettingsError
from cdktf_app.settings_file import load_settings


def main(outdir: str | None = None, argv: Sequence[str] | None = None) -> int:
    """Synthesize the ``objdepth`` stack, or run a subcommand; returns the exit status (2: bad settings)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "import-tfvars":
        from cdktf_app.migrate import main as import_tfvars

        return import_tfvars(argv[1:])
    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 2
    from cdktf_app.resolve import complete

    settings = complete(settings)
    missing = settings.unresolved()
    if missing:
        print("cannot synthesize yet:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    # Imported after validation: loading the CDK bindings takes ~15 s, a bad setting should not wait.
    from cdktf_app.cdk import App
    from cdktf_app.stack import STACK_NAME, ObjDepthStack

    app = App(outdir=outdir) if outdir else App()
    ObjDepthStack(app, STACK_NAME, settings)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
