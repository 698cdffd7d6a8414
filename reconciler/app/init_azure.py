"""The Azure OpenAI side of `ftctl init --provider azure`: the shared workflow turned into one
that signs in to Azure.

The scaffold's workflow is one template (one home for the CI loop); the Azure variant differs
only in how a job reaches the provider, so it is derived here instead of kept as a copy:

- every job that talks to the provider gets `id-token: write` and, after installing ftctl,
  azure-identity and an `azure/login` step (OIDC: client, tenant and subscription ids from
  repository variables, no stored Azure password);
- ftctl then signs in through azure-identity's DefaultAzureCredential, which uses the Azure
  CLI session azure/login left and asks for a fresh token whenever one is needed (for the data
  plane and ARM alike). We chose that over exporting `az account get-access-token` as
  AZURE_ACCESS_TOKEN: a token exported once expires within about an hour, while apply waits
  for training for hours, and it would sit in the environment of every later step;
- the data-plane key comes from the secret AZURE_OPENAI_API_KEY when the repository has one
  (it does not expire, so long applies need no token refresh); when the secret is unset the
  variable is empty and ftctl uses Entra ID for the data plane too.

Pure text in, text out; a template that no longer has the expected anchors is an error here
(and in the tests), never a silently half-converted workflow.
"""

from __future__ import annotations

import re

OPENAI_KEY_LINE = "OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}"
AZURE_KEY_LINE = "AZURE_OPENAI_API_KEY: ${{ secrets.AZURE_OPENAI_API_KEY }}"
AZURE_IDENTITY = "azure-identity>=1.15"  # what the `ftctl[azure]` extra adds
_JOB = re.compile(r"^  [A-Za-z0-9_-]+:\s*$")
_SECRETS_NOTE = re.compile(r"^# Secrets:.*\n", re.MULTILINE)

SECRETS_NOTE = """\
# Azure sign-in (docs/azure.md in ftctl's documentation): OIDC through azure/login, no stored
# Azure password. Repository variables AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_SUBSCRIPTION_ID
# (an app registration or managed identity with a federated credential for this repository,
# holding "Azure AI User" on the resource to train and "Azure AI Owner" to deploy). Optional
# secret AZURE_OPENAI_API_KEY: the data plane's key; without it ftctl signs in with Entra ID.
"""

PERMISSION = "      id-token: write # azure/login exchanges GitHub's OIDC token for an Azure one\n"

SIGN_IN_STEPS = f"""\
      - name: Install Azure sign-in (azure-identity)
        run: python -m pip install "{AZURE_IDENTITY}"
      # ftctl's DefaultAzureCredential then uses this Azure CLI session for every token.
      - name: Sign in to Azure (OIDC)
        uses: azure/login@v2
        with:
          client-id: ${{{{ vars.AZURE_CLIENT_ID }}}}
          tenant-id: ${{{{ vars.AZURE_TENANT_ID }}}}
          subscription-id: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
"""


def azure_workflow(text: str) -> str:
    """The scaffold's workflow `text`, signing in to Azure in every job that uses the provider."""
    text, found = _SECRETS_NOTE.subn(SECRETS_NOTE, text, count=1)
    _require(found == 1, "the '# Secrets:' header line")
    head, jobs = _split_jobs(text)
    converted = [_azure_job(job) if OPENAI_KEY_LINE in job else job for job in jobs]
    _require(converted != jobs, f"a job using {OPENAI_KEY_LINE!r}")
    return head + "".join(converted)


def _split_jobs(text: str) -> tuple[str, list[str]]:
    """(everything up to and including `jobs:`, each job's block of lines)."""
    lines = text.splitlines(keepends=True)
    _require("jobs:\n" in lines, "the top-level 'jobs:' key")
    start = lines.index("jobs:\n") + 1
    jobs: list[str] = []
    for line in lines[start:]:
        if _JOB.match(line) or not jobs:
            jobs.append(line)
        else:
            jobs[-1] += line
    return "".join(lines[:start]), jobs


def _azure_job(job: str) -> str:
    lines = job.splitlines(keepends=True)
    out: list[str] = []
    in_install = False
    for line in lines:
        if in_install and not line.startswith("        "):
            out.append(SIGN_IN_STEPS)
            in_install = False
        out.append(line.replace(OPENAI_KEY_LINE, AZURE_KEY_LINE))
        if line == "    permissions:\n":
            out.append(PERMISSION)
        in_install = in_install or line.strip() == "- name: Install ftctl"
    result = "".join(out)
    _require(PERMISSION in result, "a job-level 'permissions:' block")
    _require(SIGN_IN_STEPS in result, "an 'Install ftctl' step followed by another step")
    return result


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"the workflow template no longer has {what}; update init_azure.py")
