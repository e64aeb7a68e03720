"""Apply and destroy the CDKTF stack: ``cdktf deploy`` when the CLI is installed, else Terraform/OpenTofu.

Both paths synthesize ``cdktf_app`` (``make synth``) into ``cdktf.out/stacks/<stack>/cdk.tf.json``
and keep Terraform's state next to it, so the outputs are read the same way afterwards.

The stack declares the ECR repositories, but ``make deploy`` creates them first (images must be
pushed before the services start); Terraform ``import`` blocks written next to ``cdk.tf.json``
let the stack adopt them (Terraform >= 1.5; an import of a resource already in the state is a no-op).
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
ADOPT_FILE = "adopt_ecr.tf.json"
QUIET_ENV = {
    "CHECKPOINT_DISABLE": "1",  # no version check calls from terraform/cdktf
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",  # the Node 20 banner (FIELD-NOTES)
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

    def _synth(self) -> dict:
        self._call([sys.executable, "-m", "cdktf_app"])
        synthesized = self.directory / "cdk.tf.json"
        if not synthesized.is_file():
            raise DeliveryError(f"synth wrote no {synthesized}; is the stack called {self.name!r}?")
        return json.loads(synthesized.read_text())

    def _write_imports(self, config: dict, repositories: Sequence[str]) -> None:
        declared = config.get("resource", {}).get("aws_ecr_repository", {})
        imports = [
            {"to": f"aws_ecr_repository.{logical_id}", "id": body["name"]}
            for logical_id, body in sorted(declared.items())
            if body.get("name") in repositories
        ]
        adopt = self.directory / ADOPT_FILE
        if imports:
            adopt.write_text(json.dumps({"import": imports}, indent=2) + "\n")
        else:
            adopt.unlink(missing_ok=True)

    def _cdktf(self, verb: str) -> None:
        # Synthesized already (with the import blocks next to it): no second synth.
        command = [self.tools.cdktf, verb, self.name, "--app", self.app_command, "--output", OUTDIR]
        self._call([*command, "--skip-synth", "--auto-approve"])

    def _run(self, cdktf_verb: str, terraform_verb: str, adopt: Sequence[str]) -> None:
        self._write_imports(self._synth(), adopt)
        if self.tools.cdktf:
            self._cdktf(cdktf_verb)
        else:
            self._terraform("init", "-input=false", "-upgrade")
            self._terraform(terraform_verb, "-input=false", "-auto-approve")

    def apply(self, *, adopt_repositories: Sequence[str] = ()) -> None:
        """Create or update every resource of the stack, adopting the named existing ECR repositories."""
        self._run("deploy", "apply", adopt_repositories)

    def destroy(self) -> None:
        """Delete every resource of the stack."""
        self._run("destroy", "destroy", ())

    def outputs(self) -> dict[str, object]:
        """The stack's outputs as ``{name: value}`` (``terraform output -json``)."""
        raw = json.loads(self._terraform("output", "-json", capture=True) or "{}")
        return {name: entry.get("value") for name, entry in raw.items()}
