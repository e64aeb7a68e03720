"""Entry point of ``make synth`` and ``cdktf synth``: validate the settings, write ``cdktf.out/``."""

from __future__ import annotations

import sys

from cdktf_app.config import SettingsError, load_settings


def main(outdir: str | None = None) -> int:
    """Synthesize the ``objdepth`` stack; returns the process exit status (2 for invalid settings)."""
    try:
        settings = load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
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
