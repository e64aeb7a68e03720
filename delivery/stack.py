"""Apply and destroy the CDKTF stack: ``cdktf deploy`` when the CLI is installed, else Terraform/OpenTofu.

Both paths synthesize ``cdktf_app`` (``make synth``) into ``cdktf.out/stacks/<stack>/cdk.tf.json``
and keep Terraform's state next to it, so the outputs are read the same way afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from delivery.steps import DeliveryError

STACK_NAME = "objdepth"
OUTDIR = "cdktf.out"
QUIET_ENV = {
    "CHECKPOINT_DISABLE": "1",  # no version check calls from terraform/cdktf
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
}

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class StackTools:
    """The executables found: ``terraform`` (or ``tofu``) is required, ``cdktf`` is preferred."""

    terraform: str | None
    cdktf: str | None


def find_tools(which: Callable[[str], str | None] = shutil.which) -> StackTools:
    """Look up ``terraform``/``tofu`` and ``cdktf`` on PATH."""
    return StackTools(terraform=which("terraform") or which("tofu"), cdktf=which("cdktf"))


@dataclass
class Stack:
    """One CDKTF stack, applied with the tools found.

    ``env`` carries what the app reads: IMAGE_TAG, AWS_REGION and AWS_ACCOUNT_ID.
    """

    tools: StackTools
    env: Mapping[str, str]
    root: Path
    name: str = STACK_NAME
    run: Runner = field(default=subprocess.run)

    @property
    def directory(self) -> Path:
        """Where the synthesized ``cdk.tf.json`` and the Terraform state live."""
        return self.root / OUTDIR / "stacks" / self.name

    @property
    def app_command(self) -> str:
        """How the CDKTF app is run (the same as ``make synth``)."""
        return f"{sys.executable} -m cdktf_app"

    def _call(self, command: Sequence[str], *, capture: bool = False) -> str:
        env = {**os.environ, **QUIET_ENV, **self.env}
        try:
            result = self.run(
                list(command), cwd=self.root, env=env, check=True, text=True, capture_output=capture
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or "").strip()[-2000:] if capture else "see its output above"
            raise DeliveryError(
                f"`{' '.join(command[:3])} ...` exited with status {exc.returncode}: {detail}"
            ) from exc
        return result.stdout if capture else ""

    def _terraform(self, *args: str, capture: bool = False) -> str:
        if not self.tools.terraform:
            raise DeliveryError("neither terraform nor tofu is on PATH")
        return self._call([self.tools.terraform, f"-chdir={self.directory}", *args], capture=capture)

    def _synth_and_init(self) -> None:
        self._call([sys.executable, "-m", "cdktf_app"])
        if not (self.directory / "cdk.tf.json").is_file():
            raise DeliveryError(
                f"synth wrote no {self.directory / 'cdk.tf.json'}; is the stack called {self.name!r}?"
            )
        self._terraform("init", "-input=false", "-upgrade")

    def _cdktf(self, verb: str) -> None:
        self._call(
            [
                self.tools.cdktf,
                verb,
                self.name,
                "--app",
                self.app_command,
                "--output",
                OUTDIR,
                "--auto-approve",
            ]
        )

    def apply(self) -> None:
        """Create or update every resource of the stack."""
        if self.tools.cdktf:
            self._cdktf("deploy")
        else:
            self._synth_and_init()
            self._terraform("apply", "-input=false", "-auto-approve")

    def destroy(self) -> None:
        """Delete every resource of the stack."""
        if self.tools.cdktf:
            self._cdktf("destroy")
        else:
            self._synth_and_init()
            self._terraform("destroy", "-input=false", "-auto-approve")

    def outputs(self) -> dict[str, object]:
        """The stack's outputs as ``{name: value}`` (``terraform output -json``)."""
        raw = json.loads(self._terraform("output", "-json", capture=True) or "{}")
        return {name: entry.get("value") for name, entry in raw.items()}
