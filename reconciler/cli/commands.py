"""Registers every command of DESIGN §9 on the group. Each lives in its own module."""

from __future__ import annotations

import click

from reconciler.cli import (
    cmd_apply,
    cmd_data,
    cmd_drift,
    cmd_emulator,
    cmd_follow,
    cmd_init,
    cmd_jobs,
    cmd_models,
    cmd_output,
    cmd_plan,
    cmd_show,
    cmd_try,
    cmd_validate,
)

COMMANDS: tuple[click.Command, ...] = (
    cmd_init.init,
    cmd_validate.validate,
    cmd_plan.plan,
    cmd_apply.apply,
    cmd_drift.drift,
    cmd_show.show,
    cmd_output.output,
    cmd_data.data,
    cmd_follow.follow,
    cmd_jobs.jobs,
    cmd_try.try_,
    cmd_models.models,
    cmd_emulator.emulator,
)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
